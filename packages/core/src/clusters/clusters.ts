import { randomBytes } from "node:crypto";
import { Prisma, type Db } from "@tapfleet/db";
import { AppError } from "../errors.ts";
import type { SecretBox } from "../secrets.ts";
import { toClusterConnectionView, type ClusterConnectionView } from "./connection.ts";

export * from "./connection.ts";
export * from "./remove-cluster.ts";

export interface IngestKeyView {
  keyId: string;
  createdAt: Date;
  retiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface ClusterView {
  id: string;
  displayName: string | null;
  createdAt: Date;
  sensorCount: number;
  keys: IngestKeyView[];
  /** The Kubernetes connection and its status; null when the cluster has none. */
  connection: ClusterConnectionView | null;
}

/** A new HMAC key for agents: 256 random bits. */
function generateIngestSecret(): string {
  return randomBytes(32).toString("base64url");
}

export async function listClusters(options: { db: Db; now?: Date; ids?: string[] }): Promise<ClusterView[]> {
  const now = options.now ?? new Date();
  // The connection row counts nodes when its state changes; the leader's watch keeps the
  // current count with the inventory, so a synced watch's count is the one to show. Read beside
  // the clusters (a page's first render waits for both).
  const [clusters, watched] = await Promise.all([
    options.db.cluster.findMany({
      ...(options.ids ? { where: { id: { in: options.ids } } } : {}),
      orderBy: { id: "asc" },
      include: {
        keys: {
          where: { OR: [{ retiresAt: null }, { retiresAt: { gt: now } }] },
          orderBy: { createdAt: "desc" },
        },
        _count: { select: { sensors: true } },
        connection: true,
      },
    }),
    options.db.inventoryCluster.findMany({
      where: {
        ...(options.ids ? { clusterId: { in: options.ids } } : {}),
        syncedAt: { not: null },
        stale: false,
      },
      select: { clusterId: true, nodeCount: true },
    }),
  ]);
  const watchedNodes = new Map(watched.map((row) => [row.clusterId, row.nodeCount]));
  return clusters.map((cluster) => ({
    id: cluster.id,
    displayName: cluster.displayName,
    createdAt: cluster.createdAt,
    sensorCount: cluster._count.sensors,
    keys: cluster.keys.map((key) => ({
      keyId: key.keyId,
      createdAt: key.createdAt,
      retiresAt: key.retiresAt,
      lastUsedAt: key.lastUsedAt,
    })),
    connection: cluster.connection
      ? {
          ...toClusterConnectionView(cluster.connection),
          ...(watchedNodes.has(cluster.id) ? { nodeCount: watchedNodes.get(cluster.id)! } : {}),
        }
      : null,
  }));
}

/** One cluster, as listClusters shows it. */
export async function getCluster(options: { db: Db; id: string; now?: Date }): Promise<ClusterView> {
  const [cluster] = await listClusters({ db: options.db, now: options.now, ids: [options.id] });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${options.id}".` });
  return cluster;
}

/**
 * Registers a cluster and its first ingest key. The key is returned once, for
 * the cluster's Secret; only its ciphertext is stored.
 */
export async function createCluster(options: {
  db: Db;
  secrets: SecretBox;
  id: string;
  displayName?: string | null | undefined;
}): Promise<{ clusterId: string; keyId: string; secret: string }> {
  const secret = generateIngestSecret();
  try {
    await options.db.cluster.create({
      data: {
        id: options.id,
        displayName: options.displayName?.trim() || null,
        keys: { create: { keyId: options.id, secretCiphertext: options.secrets.seal(secret) } },
      },
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new AppError("CONFLICT", {
        userMessage: `A cluster with the id "${options.id}" already exists.`,
        cause: error,
      });
    }
    throw error;
  }
  return { clusterId: options.id, keyId: options.id, secret };
}

/**
 * Adds a new key under the cluster's key id; the keys in use now keep working
 * for `graceHours` so agents can be redeployed with the new one.
 */
export async function rotateIngestKey(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  graceHours: number;
  now?: Date;
}): Promise<{ keyId: string; secret: string; oldKeysRetireAt: Date }> {
  const now = options.now ?? new Date();
  const retireAt = new Date(now.getTime() + options.graceHours * 3600_000);
  const secret = generateIngestSecret();
  await options.db.$transaction(async (tx) => {
    const cluster = await tx.cluster.findUnique({ where: { id: options.clusterId } });
    if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${options.clusterId}".` });
    await tx.ingestKey.updateMany({
      where: { clusterId: cluster.id, OR: [{ retiresAt: null }, { retiresAt: { gt: retireAt } }] },
      data: { retiresAt: retireAt },
    });
    await tx.ingestKey.create({
      data: {
        keyId: cluster.id,
        clusterId: cluster.id,
        secretCiphertext: options.secrets.seal(secret),
        createdAt: now,
      },
    });
  });
  return { keyId: options.clusterId, secret, oldKeysRetireAt: retireAt };
}
