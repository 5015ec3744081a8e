-- CreateTable
CREATE TABLE "Profile" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdByType" "ActorType" NOT NULL,
    "createdById" TEXT,
    "createdByName" TEXT NOT NULL,

    CONSTRAINT "Profile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProfileRevision" (
    "profileId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "settings" JSONB NOT NULL,
    "message" TEXT NOT NULL,
    "authorType" "ActorType" NOT NULL,
    "authorId" TEXT,
    "authorName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProfileRevision_pkey" PRIMARY KEY ("profileId","number")
);

-- CreateTable
CREATE TABLE "ClusterOverride" (
    "id" BIGSERIAL NOT NULL,
    "profileId" UUID NOT NULL,
    "clusterId" TEXT NOT NULL,
    "settings" JSONB,
    "authorType" "ActorType" NOT NULL,
    "authorId" TEXT,
    "authorName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClusterOverride_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Profile_name_key" ON "Profile"("name");

-- CreateIndex
CREATE INDEX "ClusterOverride_profileId_clusterId_id_idx" ON "ClusterOverride"("profileId", "clusterId", "id");

-- AddForeignKey
ALTER TABLE "ProfileRevision" ADD CONSTRAINT "ProfileRevision_profileId_fkey" FOREIGN KEY ("profileId") REFERENCES "Profile"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClusterOverride" ADD CONSTRAINT "ClusterOverride_profileId_fkey" FOREIGN KEY ("profileId") REFERENCES "Profile"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClusterOverride" ADD CONSTRAINT "ClusterOverride_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Revisions are immutable: refuse every UPDATE and DELETE, whoever sends it.
-- The schema engine splits scripts on semicolons even inside dollar quotes, so the
-- body is an escape string with the semicolon written as the octal escape 073.
CREATE FUNCTION "refuse_change_of_history"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''% of %: rows of this table are never changed'', TG_OP, TG_TABLE_NAME USING ERRCODE = ''restrict_violation''\073 END'
;

CREATE TRIGGER "ProfileRevision_immutable" BEFORE UPDATE OR DELETE ON "ProfileRevision"
  FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_history"();

-- Override rows are a history: a new row replaces one, none is updated.
CREATE TRIGGER "ClusterOverride_append_only" BEFORE UPDATE ON "ClusterOverride"
  FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_history"();
