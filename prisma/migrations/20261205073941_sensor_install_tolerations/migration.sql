-- AlterTable
ALTER TABLE "SensorInstall" ADD COLUMN     "minReadySeconds" INTEGER,
ADD COLUMN     "tolerations" JSONB;
