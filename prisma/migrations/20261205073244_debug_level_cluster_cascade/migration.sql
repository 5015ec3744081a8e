-- Edited by hand: rows of clusters removed before this migration would refuse the foreign key, so they go first.
DELETE FROM "DebugLevel" WHERE "clusterId" NOT IN (SELECT "id" FROM "Cluster");

-- AddForeignKey
ALTER TABLE "DebugLevel" ADD CONSTRAINT "DebugLevel_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
