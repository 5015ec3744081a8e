// Configuration profiles: named sensor settings whose every save is a new,
// immutable revision (author, time, message), plus per-cluster overrides kept
// as an append-only history. Validation is the contract's (ZProfileSettingsSchema)
// and, for BPF, libpcap's compiler, as on the agent.

import type { Db } from "@tapfleet/db";
import { Prisma } from "@tapfleet/db";
import {
  ZProfileOverrideSchema,
  ZProfileSettingsSchema,
  type ProfileOverride,
  type ProfileSettings,
} from "@tapfleet/sensor/settings";
import type { AuthenticatedActor } from "../actor.ts";
import { AppError } from "../errors.ts";
import { compileBpfWithLibpcap, type BpfCompiler } from "./bpf-libpcap.ts";
import {
  diffProfileSettings,
  effectiveSettings,
  type EffectiveSetting,
  type PartialSettings,
  type SettingChange,
} from "./settings-diff.ts";
import { previewInterfaceCapture, type InterfacePreview, type PreviewNode } from "./interface-preview.ts";

export interface Author {
  type: "user" | "token" | "system";
  id: string | null;
  name: string;
}

export interface ProfileRevisionView {
  number: number;
  settings: ProfileSettings;
  message: string;
  author: Author;
  createdAt: Date;
}

export interface ClusterOverrideView {
  clusterId: string;
  settings: ProfileOverride;
  author: Author;
  createdAt: Date;
}

export interface ProfileSummaryView {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  createdBy: Author;
  latestRevision: number;
  updatedAt: Date;
  updatedBy: Author;
  overrideCount: number;
}

export interface ProfileView extends ProfileSummaryView {
  /** Newest first. */
  revisions: ProfileRevisionView[];
  /** The overrides in force, by cluster id. */
  overrides: ClusterOverrideView[];
}

const PROFILE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function authorOf(actor: AuthenticatedActor): Author {
  return { type: actor.type, id: actor.id, name: actor.name };
}

function storedAuthor(type: string, id: string | null, name: string): Author {
  return { type: type === "user" || type === "token" ? type : "system", id, name };
}

// ---------------------------------------------------------------------------
// Validation: the contract's schema, then libpcap for BPF.

function fieldProblem(field: string, message: string): AppError {
  return new AppError("INVALID_INPUT", { field, userMessage: message });
}

function checkBpf(bpf: string | undefined, compile: BpfCompiler, field: string): void {
  if (bpf === undefined) return;
  const result = compile(bpf);
  if (result.ok) return;
  if (result.reason === "unavailable") {
    throw new AppError("UNAVAILABLE", { field, userMessage: `BPF: ${result.message}` });
  }
  throw fieldProblem(field, `BPF: ${JSON.stringify(bpf)} does not compile with libpcap: ${result.message}`);
}

function zodProblem(
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> },
  field: string,
) {
  const issue = error.issues[0];
  const key = issue?.path[0];
  return fieldProblem(typeof key === "string" ? `${field}.${key}` : field, issue?.message ?? "is invalid");
}

/** The contract's rules and libpcap's compiler; throws INVALID_INPUT naming the setting. */
export function validateProfileSettings(options: {
  settings: unknown;
  compileBpf?: BpfCompiler;
}): ProfileSettings {
  const parsed = ZProfileSettingsSchema.safeParse(options.settings);
  if (!parsed.success) throw zodProblem(parsed.error, "settings");
  checkBpf(parsed.data.bpf, options.compileBpf ?? compileBpfWithLibpcap, "settings.bpf");
  return parsed.data;
}

function validateOverride(options: {
  settings: unknown;
  profileSettings: ProfileSettings;
  compileBpf?: BpfCompiler | undefined;
}): ProfileOverride {
  const parsed = ZProfileOverrideSchema.safeParse(options.settings);
  if (!parsed.success) throw zodProblem(parsed.error, "settings");
  if (Object.values(parsed.data).every((value) => value === undefined)) {
    throw fieldProblem("settings", "an override must set at least one setting; remove the override instead");
  }
  // Combinations (TLS) are checked on what the cluster would run with.
  const merged = ZProfileSettingsSchema.safeParse({ ...options.profileSettings, ...parsed.data });
  if (!merged.success) throw zodProblem(merged.error, "settings");
  checkBpf(parsed.data.bpf, options.compileBpf ?? compileBpfWithLibpcap, "settings.bpf");
  return parsed.data;
}

// ---------------------------------------------------------------------------
// Reading

type RevisionRow = Prisma.ProfileRevisionGetPayload<object>;
type OverrideRow = Prisma.ClusterOverrideGetPayload<object>;

function revisionView(row: RevisionRow): ProfileRevisionView {
  return {
    number: row.number,
    settings: row.settings as ProfileSettings,
    message: row.message,
    author: storedAuthor(row.authorType, row.authorId, row.authorName),
    createdAt: row.createdAt,
  };
}

/** The newest row of each cluster, without the removed ones. */
function overridesInForce(rows: readonly OverrideRow[]): ClusterOverrideView[] {
  const newest = new Map<string, OverrideRow>();
  for (const row of rows) {
    const seen = newest.get(row.clusterId);
    if (seen === undefined || row.id > seen.id) newest.set(row.clusterId, row);
  }
  return [...newest.values()]
    .filter((row) => row.settings !== null)
    .sort((a, b) => a.clusterId.localeCompare(b.clusterId))
    .map((row) => ({
      clusterId: row.clusterId,
      settings: row.settings as ProfileOverride,
      author: storedAuthor(row.authorType, row.authorId, row.authorName),
      createdAt: row.createdAt,
    }));
}

async function loadProfile(db: Db, id: string) {
  const profile = await db.profile.findUnique({
    where: { id },
    include: { revisions: { orderBy: { number: "desc" } }, overrides: { orderBy: { id: "asc" } } },
  });
  if (!profile) throw new AppError("NOT_FOUND", { userMessage: `There is no profile with id ${id}.` });
  return profile;
}

function summaryOf(
  profile: Prisma.ProfileGetPayload<object>,
  latest: RevisionRow,
  overrideCount: number,
): ProfileSummaryView {
  return {
    id: profile.id,
    name: profile.name,
    description: profile.description,
    createdAt: profile.createdAt,
    createdBy: storedAuthor(profile.createdByType, profile.createdById, profile.createdByName),
    latestRevision: latest.number,
    updatedAt: latest.createdAt,
    updatedBy: storedAuthor(latest.authorType, latest.authorId, latest.authorName),
    overrideCount,
  };
}

/** One profile with every revision (newest first) and the overrides in force. */
export async function getProfile(options: { db: Db; id: string }): Promise<ProfileView> {
  const profile = await loadProfile(options.db, options.id);
  const latest = profile.revisions[0];
  if (!latest) throw new Error(`profile ${profile.id} has no revision`);
  const overrides = overridesInForce(profile.overrides);
  return {
    ...summaryOf(profile, latest, overrides.length),
    revisions: profile.revisions.map(revisionView),
    overrides,
  };
}

/** Every profile by name, with its latest revision's number, time and author. */
export async function listProfiles(options: { db: Db }): Promise<ProfileSummaryView[]> {
  const profiles = await options.db.profile.findMany({
    orderBy: { name: "asc" },
    include: { revisions: { orderBy: { number: "desc" }, take: 1 }, overrides: { orderBy: { id: "asc" } } },
  });
  return profiles.flatMap((profile) => {
    const latest = profile.revisions[0];
    return latest ? [summaryOf(profile, latest, overridesInForce(profile.overrides).length)] : [];
  });
}

// ---------------------------------------------------------------------------
// Writing: inserts only.

/** Creates a profile with its first revision (r1). Names are DNS labels, unique. */
export async function createProfile(options: {
  db: Db;
  actor: AuthenticatedActor;
  name: string;
  description?: string | undefined;
  settings: unknown;
  message: string;
  compileBpf?: BpfCompiler;
}): Promise<ProfileView> {
  if (!PROFILE_NAME.test(options.name)) {
    throw fieldProblem(
      "name",
      'must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit',
    );
  }
  const settings = validateProfileSettings({ settings: options.settings, compileBpf: options.compileBpf });
  const author = authorOf(options.actor);
  let id: string;
  try {
    const created = await options.db.profile.create({
      data: {
        name: options.name,
        description: options.description ?? "",
        createdByType: author.type,
        createdById: author.id,
        createdByName: author.name,
        revisions: {
          create: {
            number: 1,
            settings: settings,
            message: options.message,
            authorType: author.type,
            authorId: author.id,
            authorName: author.name,
          },
        },
      },
    });
    id = created.id;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new AppError("CONFLICT", {
        field: "name",
        userMessage: `a profile named ${JSON.stringify(options.name)} already exists`,
      });
    }
    throw error;
  }
  return getProfile({ db: options.db, id });
}

function staleMessage(latest: RevisionRow, expected: number): string {
  return `r${latest.number} was saved by ${latest.authorName} at ${latest.createdAt.toISOString()} (“${latest.message}”) after r${expected}, which you edited; review their change and save again`;
}

/**
 * Saves new settings as the next revision. `expectedLatest` is the revision
 * the caller edited: if someone saved since, nothing is saved and CONFLICT
 * names who. Two saves racing for the same number: the database's key lets
 * one win, the other gets the same CONFLICT.
 */
export async function saveProfileRevision(options: {
  db: Db;
  actor: AuthenticatedActor;
  profileId: string;
  expectedLatest: number;
  settings: unknown;
  message: string;
  compileBpf?: BpfCompiler;
}): Promise<ProfileRevisionView> {
  const { db } = options;
  const latestOf = () =>
    db.profileRevision.findFirst({ where: { profileId: options.profileId }, orderBy: { number: "desc" } });
  const latest = await latestOf();
  if (!latest)
    throw new AppError("NOT_FOUND", { userMessage: `There is no profile with id ${options.profileId}.` });
  if (latest.number !== options.expectedLatest) {
    throw new AppError("CONFLICT", {
      field: "expectedLatest",
      userMessage: staleMessage(latest, options.expectedLatest),
    });
  }
  const settings = validateProfileSettings({ settings: options.settings, compileBpf: options.compileBpf });
  const author = authorOf(options.actor);
  try {
    const row = await db.profileRevision.create({
      data: {
        profileId: options.profileId,
        number: latest.number + 1,
        settings: settings,
        message: options.message,
        authorType: author.type,
        authorId: author.id,
        authorName: author.name,
      },
    });
    return revisionView(row);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      const winner = await latestOf();
      throw new AppError("CONFLICT", {
        field: "expectedLatest",
        userMessage: winner ? staleMessage(winner, options.expectedLatest) : "someone saved at the same time",
      });
    }
    throw error;
  }
}

async function revisionOf(db: Db, profileId: string, number: number): Promise<RevisionRow> {
  const row = await db.profileRevision.findUnique({ where: { profileId_number: { profileId, number } } });
  if (!row) {
    const profile = await db.profile.findUnique({ where: { id: profileId }, select: { id: true } });
    if (!profile)
      throw new AppError("NOT_FOUND", { userMessage: `There is no profile with id ${profileId}.` });
    throw new AppError("NOT_FOUND", { userMessage: `This profile has no revision r${number}.` });
  }
  return row;
}

/** The differences between two revisions of a profile, by setting. */
export async function diffRevisions(options: {
  db: Db;
  profileId: string;
  from: number;
  to: number;
}): Promise<SettingChange[]> {
  const [from, to] = await Promise.all([
    revisionOf(options.db, options.profileId, options.from),
    revisionOf(options.db, options.profileId, options.to),
  ]);
  return diffProfileSettings({ from: from.settings as PartialSettings, to: to.settings as PartialSettings });
}

async function requireCluster(db: Db, clusterId: string): Promise<void> {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster)
    throw new AppError("NOT_FOUND", { userMessage: `There is no cluster ${JSON.stringify(clusterId)}.` });
}

/**
 * Sets (replaces) a cluster's override of a profile: a new history row. The
 * override merged with the latest revision must pass the contract's rules.
 */
export async function setClusterOverride(options: {
  db: Db;
  actor: AuthenticatedActor;
  profileId: string;
  clusterId: string;
  settings: unknown;
  compileBpf?: BpfCompiler;
}): Promise<ClusterOverrideView> {
  const { db } = options;
  const profile = await getProfile({ db, id: options.profileId });
  await requireCluster(db, options.clusterId);
  const latest = profile.revisions[0]!;
  const settings = validateOverride({
    settings: options.settings,
    profileSettings: latest.settings,
    compileBpf: options.compileBpf,
  });
  const author = authorOf(options.actor);
  const row = await db.clusterOverride.create({
    data: {
      profileId: options.profileId,
      clusterId: options.clusterId,
      settings: settings,
      authorType: author.type,
      authorId: author.id,
      authorName: author.name,
    },
  });
  return { clusterId: row.clusterId, settings, author, createdAt: row.createdAt };
}

/** Removes a cluster's override (a history row with no settings); NOT_FOUND when there is none. */
export async function removeClusterOverride(options: {
  db: Db;
  actor: AuthenticatedActor;
  profileId: string;
  clusterId: string;
}): Promise<void> {
  const profile = await getProfile({ db: options.db, id: options.profileId });
  if (!profile.overrides.some((override) => override.clusterId === options.clusterId)) {
    throw new AppError("NOT_FOUND", {
      userMessage: `Profile ${profile.name} has no override for cluster ${JSON.stringify(options.clusterId)}.`,
    });
  }
  const author = authorOf(options.actor);
  await options.db.clusterOverride.create({
    data: {
      profileId: options.profileId,
      clusterId: options.clusterId,
      settings: Prisma.DbNull,
      authorType: author.type,
      authorId: author.id,
      authorName: author.name,
    },
  });
}

/** A cluster's effective settings under a revision (default: the latest), with each value's source. */
export async function getEffectiveSettings(options: {
  db: Db;
  profileId: string;
  clusterId?: string | undefined;
  revision?: number | undefined;
}): Promise<{ revision: number; clusterId: string | null; settings: EffectiveSetting[] }> {
  const profile = await getProfile({ db: options.db, id: options.profileId });
  const revision =
    options.revision === undefined
      ? profile.revisions[0]!
      : profile.revisions.find((candidate) => candidate.number === options.revision);
  if (!revision)
    throw new AppError("NOT_FOUND", { userMessage: `This profile has no revision r${options.revision}.` });
  if (options.clusterId !== undefined) await requireCluster(options.db, options.clusterId);
  const override = profile.overrides.find((candidate) => candidate.clusterId === options.clusterId);
  return {
    revision: revision.number,
    clusterId: options.clusterId ?? null,
    settings: effectiveSettings({ revision, override: override ?? null }),
  };
}

/** Each reporting node's interfaces, from its latest stored report. */
async function listReportedInterfaces(db: Db, clusterId: string | undefined): Promise<PreviewNode[]> {
  const rows = await db.$queryRaw<
    Array<{ clusterId: string; nodeName: string; receivedAt: Date | null; interfaces: unknown }>
  >`SELECT s."clusterId", s."nodeName", r."receivedAt", r."report"->'nodeInterfaces' AS "interfaces"
      FROM "Sensor" s
      -- The newest report, found by its own time: the sensor's lastSeenAt also moves with packet
      -- chunk uploads, so it is not the time of a report.
      LEFT JOIN LATERAL (
        SELECT "receivedAt", "report" FROM "SensorReport"
         WHERE "sensorId" = s."id"
         ORDER BY "receivedAt" DESC
         LIMIT 1
      ) r ON TRUE
     WHERE ${clusterId === undefined ? Prisma.sql`TRUE` : Prisma.sql`s."clusterId" = ${clusterId}`}
     ORDER BY s."clusterId", s."nodeName"`;
  return rows.map((row) => {
    const interfaces =
      Array.isArray(row.interfaces) && row.interfaces.every((name) => typeof name === "string")
        ? [...row.interfaces].sort()
        : null;
    return { clusterId: row.clusterId, nodeName: row.nodeName, reportedAt: row.receivedAt, interfaces };
  });
}

/**
 * Which interfaces each reporting node would capture with `settings` (each
 * cluster's override of the profile applied when a profile is named).
 */
export async function previewProfileInterfaces(options: {
  db: Db;
  settings: unknown;
  profileId?: string | undefined;
  clusterId?: string | undefined;
}): Promise<InterfacePreview[]> {
  // Only the contract's rules: libpcap is not needed to say which interfaces match.
  const parsed = ZProfileSettingsSchema.safeParse(options.settings);
  if (!parsed.success) throw zodProblem(parsed.error, "settings");
  const settings = parsed.data;
  const overrides = options.profileId
    ? (await getProfile({ db: options.db, id: options.profileId })).overrides
    : [];
  const nodes = await listReportedInterfaces(options.db, options.clusterId);
  return previewInterfaceCapture({
    nodes,
    settingsFor: (clusterId) => ({
      ...settings,
      ...overrides.find((override) => override.clusterId === clusterId)?.settings,
    }),
  });
}
