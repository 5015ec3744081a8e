-- DropIndex
DROP INDEX "InventoryCoverage_clusterId_state_nodeName_daemonSetNamespa_idx";

-- AlterTable
-- Edited by hand: stateRank is generated from state (Prisma declares it as dbgenerated()), by
-- core's COVERAGE_STATE_SEVERITY, problems first (a test checks both agree).
ALTER TABLE "InventoryCoverage" ADD COLUMN "stateRank" SMALLINT NOT NULL
  GENERATED ALWAYS AS (CASE "state" WHEN 'crash-looping' THEN 0 WHEN 'silent' THEN 1 WHEN 'unreachable' THEN 2 WHEN 'pending' THEN 3 WHEN 'not-scheduled' THEN 4 WHEN 'node-not-ready' THEN 5 WHEN 'starting' THEN 6 WHEN 'covered' THEN 7 WHEN 'excluded' THEN 8 ELSE 9 END) STORED;

-- CreateIndex
CREATE INDEX "InventoryCoverage_stateRank_clusterId_nodeName_daemonSetNam_idx" ON "InventoryCoverage"("stateRank", "clusterId", "nodeName", "daemonSetNamespace", "daemonSetName");

-- CreateIndex
CREATE INDEX "InventoryCoverage_nodeName_clusterId_daemonSetNamespace_dae_idx" ON "InventoryCoverage"("nodeName", "clusterId", "daemonSetNamespace", "daemonSetName");

-- CreateIndex
CREATE INDEX "InventoryCoverage_since_clusterId_nodeName_daemonSetNamespa_idx" ON "InventoryCoverage"("since", "clusterId", "nodeName", "daemonSetNamespace", "daemonSetName");
