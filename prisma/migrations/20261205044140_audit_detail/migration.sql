-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "changes" JSONB,
ADD COLUMN     "message" TEXT,
ADD COLUMN     "targetName" TEXT;
