-- CreateTable
CREATE TABLE "SensorDrift" (
    "clusterId" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "daemonSetName" TEXT NOT NULL,
    "tracked" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "changes" JSONB NOT NULL,
    "uid" TEXT,
    "generation" INTEGER,
    "checkedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SensorDrift_pkey" PRIMARY KEY ("clusterId","namespace","daemonSetName")
);
