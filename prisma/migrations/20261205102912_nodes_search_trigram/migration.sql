-- Edited by hand: the trigram operator class comes from pg_trgm, which ships with PostgreSQL
-- (contrib) and is a trusted extension since PostgreSQL 13: the database's owner may create it,
-- no superuser needed.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateIndex
CREATE INDEX "InventoryCoverage_nodeName_podName_idx" ON "InventoryCoverage" USING GIN ("nodeName" gin_trgm_ops, "podName" gin_trgm_ops);
