-- CreateTable
CREATE TABLE "Cluster" (
    "id" TEXT NOT NULL,
    "displayName" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Cluster_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IngestKey" (
    "id" UUID NOT NULL,
    "keyId" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "secretCiphertext" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retiresAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "IngestKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Sensor" (
    "id" UUID NOT NULL,
    "clusterId" TEXT NOT NULL,
    "nodeName" TEXT NOT NULL,
    "podName" TEXT NOT NULL,
    "agentVersion" TEXT NOT NULL,
    "configHash" TEXT NOT NULL,
    "agentStartedAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSequence" BIGINT NOT NULL,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSummary" JSONB,

    CONSTRAINT "Sensor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SensorReport" (
    "id" BIGSERIAL NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sensorId" UUID NOT NULL,
    "clusterId" TEXT NOT NULL,
    "nodeName" TEXT NOT NULL,
    "agentStartedAt" TIMESTAMPTZ(3) NOT NULL,
    "sequence" BIGINT NOT NULL,
    "sentAt" TIMESTAMPTZ(3) NOT NULL,
    "report" JSONB NOT NULL,

    CONSTRAINT "SensorReport_pkey" PRIMARY KEY ("id","receivedAt")
) PARTITION BY RANGE ("receivedAt");

-- Edited by hand: reports are partitioned by day so that retention drops whole
-- partitions. The server creates each day's partition ahead of time
-- (ensureReportPartitions), and the default partition only catches what falls
-- outside them (a clock far off), so no insert ever fails for want of one.
CREATE TABLE "SensorReport_default" PARTITION OF "SensorReport" DEFAULT;

-- CreateTable
CREATE TABLE "IngestNonce" (
    "keyId" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "IngestNonce_pkey" PRIMARY KEY ("keyId","nonce")
);

-- CreateTable
CREATE TABLE "PacketChunk" (
    "id" BIGSERIAL NOT NULL,
    "sensorId" UUID NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "interface" TEXT NOT NULL,
    "firstPacketAtUs" BIGINT NOT NULL,
    "lastPacketAtUs" BIGINT NOT NULL,
    "packetCount" INTEGER NOT NULL,
    "pcap" BYTEA NOT NULL,

    CONSTRAINT "PacketChunk_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "IngestKey_keyId_idx" ON "IngestKey"("keyId");

-- CreateIndex
CREATE INDEX "IngestKey_clusterId_idx" ON "IngestKey"("clusterId");

-- CreateIndex
CREATE UNIQUE INDEX "Sensor_clusterId_nodeName_key" ON "Sensor"("clusterId", "nodeName");

-- CreateIndex
CREATE INDEX "SensorReport_sensorId_receivedAt_idx" ON "SensorReport"("sensorId", "receivedAt");

-- CreateIndex
CREATE INDEX "IngestNonce_expiresAt_idx" ON "IngestNonce"("expiresAt");

-- CreateIndex
CREATE INDEX "PacketChunk_sensorId_id_idx" ON "PacketChunk"("sensorId", "id");

-- AddForeignKey
ALTER TABLE "IngestKey" ADD CONSTRAINT "IngestKey_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sensor" ADD CONSTRAINT "Sensor_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PacketChunk" ADD CONSTRAINT "PacketChunk_sensorId_fkey" FOREIGN KEY ("sensorId") REFERENCES "Sensor"("id") ON DELETE CASCADE ON UPDATE CASCADE;
