-- CreateTable
CREATE TABLE "SensorInstall" (
    "clusterId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "image" TEXT NOT NULL,
    "captureMode" TEXT NOT NULL,
    "networkPolicy" BOOLEAN NOT NULL,
    "createdNamespace" BOOLEAN NOT NULL,
    "settings" JSONB NOT NULL,
    "configHash" TEXT NOT NULL,
    "objects" JSONB NOT NULL,
    "installedBy" TEXT NOT NULL,
    "installedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SensorInstall_pkey" PRIMARY KEY ("clusterId")
);

-- AddForeignKey
ALTER TABLE "SensorInstall" ADD CONSTRAINT "SensorInstall_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
