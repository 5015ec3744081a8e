-- CreateTable
CREATE TABLE "InventoryCoverage" (
    "clusterId" TEXT NOT NULL,
    "nodeName" TEXT NOT NULL,
    "daemonSetNamespace" TEXT NOT NULL,
    "daemonSetName" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "shouldRun" BOOLEAN NOT NULL,
    "changesAt" TIMESTAMPTZ(3),
    "podName" TEXT,
    "sensorId" UUID,
    "stale" BOOLEAN NOT NULL,
    "details" JSONB,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "InventoryCoverage_pkey" PRIMARY KEY ("clusterId","nodeName","daemonSetNamespace","daemonSetName")
);

-- CreateTable
CREATE TABLE "InventoryCluster" (
    "clusterId" TEXT NOT NULL,
    "reachability" TEXT NOT NULL,
    "reachableSince" TIMESTAMPTZ(3) NOT NULL,
    "serverVersion" TEXT,
    "lastError" TEXT,
    "lastErrorAt" TIMESTAMPTZ(3),
    "nodeCount" INTEGER NOT NULL,
    "syncedAt" TIMESTAMPTZ(3),
    "stale" BOOLEAN NOT NULL,
    "summary" JSONB NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "InventoryCluster_pkey" PRIMARY KEY ("clusterId")
);

-- CreateIndex
CREATE INDEX "InventoryCoverage_clusterId_state_nodeName_daemonSetNamespa_idx" ON "InventoryCoverage"("clusterId", "state", "nodeName", "daemonSetNamespace", "daemonSetName");
