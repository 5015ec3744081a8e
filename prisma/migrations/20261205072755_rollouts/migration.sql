-- CreateTable
CREATE TABLE "Rollout" (
    "id" UUID NOT NULL,
    "profileId" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "image" TEXT,
    "strategy" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "startedByType" "ActorType" NOT NULL,
    "startedById" TEXT,
    "startedByName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RolloutCluster" (
    "rolloutId" UUID NOT NULL,
    "clusterId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "wave" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "daemonSetName" TEXT NOT NULL,
    "before" JSONB,
    "target" JSONB,
    "baseline" JSONB,
    "nodes" JSONB,
    "changedAt" TIMESTAMPTZ(3),
    "gateDeadline" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "reason" TEXT,
    "lastError" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RolloutCluster_pkey" PRIMARY KEY ("rolloutId","clusterId")
);

-- CreateIndex
CREATE INDEX "Rollout_status_idx" ON "Rollout"("status");

-- CreateIndex
CREATE INDEX "Rollout_createdAt_idx" ON "Rollout"("createdAt");

-- CreateIndex
CREATE INDEX "RolloutCluster_clusterId_status_idx" ON "RolloutCluster"("clusterId", "status");

-- AddForeignKey
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_profileId_fkey" FOREIGN KEY ("profileId") REFERENCES "Profile"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RolloutCluster" ADD CONSTRAINT "RolloutCluster_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;
