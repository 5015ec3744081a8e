-- CreateEnum
CREATE TYPE "SensorActionType" AS ENUM ('pcap_snapshot');

-- CreateEnum
CREATE TYPE "SensorActionStatus" AS ENUM ('pending', 'delivered', 'succeeded', 'failed', 'expired');

-- CreateTable
CREATE TABLE "SensorAction" (
    "id" UUID NOT NULL,
    "sensorId" UUID NOT NULL,
    "type" "SensorActionType" NOT NULL,
    "params" JSONB NOT NULL,
    "status" "SensorActionStatus" NOT NULL DEFAULT 'pending',
    "requestedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "requestedByType" "ActorType" NOT NULL,
    "requestedById" TEXT,
    "requestedByName" TEXT NOT NULL,
    "pickupBy" TIMESTAMPTZ(3) NOT NULL,
    "deliveredAt" TIMESTAMPTZ(3),
    "resultDueBy" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "reason" TEXT,
    "resultInterfaces" TEXT[],
    "resultEndedBy" TEXT,
    "packetCount" INTEGER,
    "pcapBytes" INTEGER,
    "pcap" BYTEA,

    CONSTRAINT "SensorAction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SensorAction_sensorId_requestedAt_idx" ON "SensorAction"("sensorId", "requestedAt");

-- CreateIndex
CREATE INDEX "SensorAction_status_pickupBy_idx" ON "SensorAction"("status", "pickupBy");

-- CreateIndex
CREATE INDEX "SensorAction_status_resultDueBy_idx" ON "SensorAction"("status", "resultDueBy");

-- AddForeignKey
ALTER TABLE "SensorAction" ADD CONSTRAINT "SensorAction_sensorId_fkey" FOREIGN KEY ("sensorId") REFERENCES "Sensor"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A result pcap is bounded by the protocol's largest snapshot (16 MiB).
ALTER TABLE "SensorAction" ADD CONSTRAINT "SensorAction_pcap_size" CHECK (octet_length("pcap") <= 16777216);
