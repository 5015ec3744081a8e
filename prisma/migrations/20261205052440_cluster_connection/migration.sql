-- CreateTable
CREATE TABLE "ClusterConnection" (
    "clusterId" TEXT NOT NULL,
    "kubeconfigCiphertext" TEXT NOT NULL,
    "context" TEXT NOT NULL,
    "server" TEXT NOT NULL,
    "authKind" TEXT NOT NULL,
    "insecure" BOOLEAN NOT NULL DEFAULT false,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "state" TEXT NOT NULL,
    "stateSince" TIMESTAMPTZ(3) NOT NULL,
    "serverVersion" TEXT,
    "nodeCount" INTEGER,
    "lastError" TEXT,
    "lastErrorAt" TIMESTAMPTZ(3),
    "checkedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ClusterConnection_pkey" PRIMARY KEY ("clusterId")
);

-- AddForeignKey
ALTER TABLE "ClusterConnection" ADD CONSTRAINT "ClusterConnection_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
