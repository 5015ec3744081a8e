-- AlterTable
ALTER TABLE "SensorReport" ALTER COLUMN "report" SET DATA TYPE JSON;
