-- AlterTable
ALTER TABLE "SensorInstall" ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'installed',
ADD COLUMN     "profileId" UUID,
ADD COLUMN     "profileRevision" INTEGER;
