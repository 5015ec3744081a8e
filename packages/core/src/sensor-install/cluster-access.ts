// What the sensor's install, adopt and release share: the cluster's
// Kubernetes connection, its current ingest key, a cluster's refusal as the
// AppError it is for the caller, and the recorded object references.

import type { Db } from "@tapfleet/db";
import { ApplyFailure, KubeRequestError, loadKubeConfig, type KubeObjectRef } from "@tapfleet/kube";
import { z } from "zod";
import { openClusterConnection } from "../clusters/connection.ts";
import { AppError } from "../errors.ts";
import type { SecretBox } from "../secrets.ts";

export type KubeConfig = ReturnType<typeof loadKubeConfig>;

const ZObjectRefsSchema = z.array(
  z.object({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string(),
  }),
);

/** The cluster's connection, refused with CONFLICT when there is none or it is disabled. */
export async function connect(db: Db, secrets: SecretBox, clusterId: string): Promise<KubeConfig> {
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  const row = await db.clusterConnection.findUnique({ where: { clusterId }, select: { enabled: true } });
  if (!row)
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}" has no Kubernetes connection: connect it first (PUT /api/v1/clusters/${clusterId}/connection).`,
    });
  if (!row.enabled)
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}"'s Kubernetes connection is disabled: enable it first.`,
    });
  const { kubeconfig } = await openClusterConnection({ db, secrets, clusterId });
  return loadKubeConfig(kubeconfig);
}

export async function currentIngestKey(
  db: Db,
  secrets: SecretBox,
  clusterId: string,
  now: Date,
): Promise<string> {
  const key = await db.ingestKey.findFirst({
    where: { clusterId, OR: [{ retiresAt: null }, { retiresAt: { gt: now } }] },
    orderBy: { createdAt: "desc" },
  });
  if (!key)
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}" has no ingest key in use: rotate its key first.`,
    });
  return secrets.open(key.secretCiphertext);
}

/** A refusal from the cluster as the AppError it is for the caller. */
export function asAppError(error: unknown, doing: string): unknown {
  if (error instanceof ApplyFailure) {
    const status = error.refusal.status;
    const code =
      status === 403 || status === 401
        ? "FORBIDDEN"
        : status === 409
          ? "CONFLICT"
          : status === 400 || status === 422
            ? "INVALID_INPUT"
            : status === 0
              ? "UNAVAILABLE"
              : "INTERNAL";
    const hint =
      status === 403
        ? " The connection's credentials lack this permission (see the README, Connect a cluster)."
        : "";
    return new AppError(code, {
      userMessage: `The cluster refused ${doing}: ${error.message}.${hint}`,
      cause: error,
    });
  }
  if (error instanceof KubeRequestError) {
    const code =
      error.status === 403 || error.status === 401
        ? "FORBIDDEN"
        : error.status === 0
          ? "UNAVAILABLE"
          : "INTERNAL";
    return new AppError(code, {
      userMessage: `The cluster refused ${doing}: ${error.message}`,
      cause: error,
    });
  }
  return error;
}

export function toRefs(value: unknown): KubeObjectRef[] {
  return ZObjectRefsSchema.parse(value);
}
