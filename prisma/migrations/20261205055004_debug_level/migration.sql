-- CreateTable
CREATE TABLE "DebugLevel" (
    "clusterId" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "daemonSetName" TEXT NOT NULL,
    "container" TEXT NOT NULL,
    "level" INTEGER NOT NULL,
    "previousLevel" TEXT,
    "setAt" TIMESTAMPTZ(3) NOT NULL,
    "setBy" TEXT NOT NULL,
    "revertsAt" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "lastError" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DebugLevel_pkey" PRIMARY KEY ("clusterId")
);
