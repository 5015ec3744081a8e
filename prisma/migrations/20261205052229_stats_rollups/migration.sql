-- CreateTable
CREATE TABLE "SensorStatsRollup" (
    "sensorId" UUID NOT NULL,
    "bucketSeconds" INTEGER NOT NULL,
    "bucketStart" TIMESTAMPTZ(3) NOT NULL,
    "interface" TEXT NOT NULL,
    "seconds" DOUBLE PRECISION NOT NULL,
    "packets" BIGINT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "kernelDrops" BIGINT NOT NULL,
    "interfaceDrops" BIGINT NOT NULL,
    "maxPacketsPerSecond" DOUBLE PRECISION NOT NULL,
    "maxBitsPerSecond" DOUBLE PRECISION NOT NULL,
    "maxDropsPerSecond" DOUBLE PRECISION NOT NULL,
    "ipv4" BIGINT NOT NULL,
    "ipv6" BIGINT NOT NULL,
    "tcp" BIGINT NOT NULL,
    "udp" BIGINT NOT NULL,
    "icmp" BIGINT NOT NULL,
    "other" BIGINT NOT NULL,

    CONSTRAINT "SensorStatsRollup_pkey" PRIMARY KEY ("sensorId","bucketSeconds","bucketStart","interface")
);

-- CreateTable
CREATE TABLE "StatsRollupCursor" (
    "name" TEXT NOT NULL,
    "processedUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "StatsRollupCursor_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "SensorStatsRollup_bucketStart_idx" ON "SensorStatsRollup"("bucketStart");
