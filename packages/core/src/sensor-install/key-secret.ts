// The key Secret Tapfleet writes for an adopted sensor DaemonSet whose HMAC
// key was a literal (or not set): <name>-hmac in the DaemonSet's namespace,
// key hmac-key, holding the cluster's current ingest key. A rollout writes it
// before the template that reads it (core/rollouts), and an ingest key
// rotation writes it again. Both go through writeAdoptedKeySecret, so the same
// ownership rule holds for both: a Secret of that name that Tapfleet did not
// make (no part-of: tapfleet label) is never written. When the write creates
// the Secret, it is recorded among the adopted install's objects, so Uninstall
// removes it (it is something Tapfleet installed) and Release leaves it with
// the running DaemonSet that reads it.

import type { Db } from "@tapfleet/db";
import { ApplyFailure, applyObjects, readObject, type KubeObjectRef } from "@tapfleet/kube";
import {
  HMAC_SECRET_KEY,
  hmacSecretName,
  PART_OF_LABEL,
  PART_OF_VALUE,
  renderSensorManifests,
  type Secret,
} from "@tapfleet/sensor/manifests";
import { ZProfileSettingsSchema, ZSensorSettingsSchema } from "@tapfleet/sensor/settings";
import { isDeepStrictEqual } from "node:util";
import { AppError, isAppError } from "../errors.ts";
import type { SecretBox } from "../secrets.ts";
import { asAppError, connect, currentIngestKey, toRefs, type KubeConfig } from "./cluster-access.ts";

const HMAC_KEY_VARIABLE = "VSENSOR_HMAC_KEY";

/**
 * Writes the key Secret for the adopted sensor in `clusterId`, creating it
 * when it is not there; refused with CONFLICT, writing nothing, when a Secret
 * of that name exists that Tapfleet did not make. A created Secret is added
 * to the install's recorded objects. The cluster not answering is thrown as
 * the KubeRequestError it is (a rollout waits for the cluster); any other
 * refusal as an AppError.
 */
export async function writeAdoptedKeySecret(options: {
  db: Db;
  clusterId: string;
  kubeConfig: KubeConfig;
  secret: Secret;
}): Promise<{ created: boolean }> {
  const { secret, kubeConfig } = options;
  const ref = {
    apiVersion: "v1",
    kind: "Secret",
    namespace: secret.metadata.namespace!,
    name: secret.metadata.name,
  };
  const existing = await readObject({ kubeConfig, object: ref });
  if (existing !== null && existing.metadata.labels?.[PART_OF_LABEL] !== PART_OF_VALUE)
    throw new AppError("CONFLICT", {
      userMessage: `Secret ${ref.namespace}/${ref.name} exists and Tapfleet did not make it, so Tapfleet does not write the cluster's key into it: remove or rename it, or make VSENSOR_HMAC_KEY read a Secret of yours (valueFrom.secretKeyRef) that holds the cluster's ingest key`,
    });
  let applied;
  try {
    applied = await applyObjects({ kubeConfig, objects: [secret] });
  } catch (error) {
    if (error instanceof ApplyFailure && error.refusal.status === 0) throw error.refusal;
    throw asAppError(error, `writing the key Secret ${ref.namespace}/${ref.name}`);
  }
  const [written] = applied;
  if (written?.created) {
    const { created: _created, ...recorded } = written;
    await recordObject(options.db, options.clusterId, recorded);
  }
  return { created: written?.created ?? false };
}

/** Adds an object Tapfleet created to the adopted install's list (replacing one of that kind and name). */
async function recordObject(db: Db, clusterId: string, object: KubeObjectRef): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = await db.sensorInstall.findUnique({ where: { clusterId }, select: { objects: true } });
    if (!row) return;
    const refs = toRefs(row.objects).filter(
      (ref) => !(ref.kind === object.kind && ref.namespace === object.namespace && ref.name === object.name),
    );
    // Guarded by the list read: a concurrent change of it makes this a no-op, and it is read again.
    const updated = await db.sensorInstall.updateMany({
      where: { clusterId, objects: { equals: row.objects as object } },
      data: { objects: [...refs, object].map((ref) => ({ ...ref })) },
    });
    if (updated.count === 1) return;
  }
  throw new Error(
    `recording Secret ${object.namespace}/${object.name} for ${clusterId}: the install kept changing`,
  );
}

/**
 * After an ingest key rotation, the key Secret of an adopted sensor gets the
 * new key — when the DaemonSet reads the key from it and Tapfleet made it.
 * A literal key, a reference to the owner's own Secret or ConfigMap, and a
 * Secret of that name Tapfleet did not make are left as they are. Returns the
 * Secret written, or why nothing was.
 */
export async function refreshAdoptedKeySecret(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  install: { namespace: string; name: string; settings: unknown; captureMode: string };
  now?: Date;
}): Promise<{ written: string | null; skipped: string | null }> {
  // The rotation is done by now (and its new key shown once): a cluster that cannot be reached or
  // refuses is said in the rotation's audit event rather than failing it. Anything else is a fault.
  try {
    return await writeRotatedKeySecret(options);
  } catch (error) {
    const skipped = keyRefreshSkipReason(error);
    if (skipped !== null) return { written: null, skipped };
    throw error;
  }
}

/**
 * Why a rotated key could not be written to the cluster, when the cluster cannot be asked (no
 * connection or a disabled one, unreachable) or refuses: the rotation stands and says so. Null for
 * any other error, which is a fault.
 */
export function keyRefreshSkipReason(error: unknown): string | null {
  if (
    isAppError(error) &&
    (error.code === "CONFLICT" || error.code === "UNAVAILABLE" || error.code === "FORBIDDEN")
  )
    return error.userMessage;
  return null;
}

async function writeRotatedKeySecret(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  install: { namespace: string; name: string; settings: unknown; captureMode: string };
  now?: Date;
}): Promise<{ written: string | null; skipped: string | null }> {
  const { db, secrets, clusterId, install } = options;
  const secretName = hmacSecretName(install.name);
  const described = `Secret ${install.namespace}/${secretName}`;
  const kubeConfig = await connect(db, secrets, clusterId);
  let daemonSet;
  let existing;
  try {
    daemonSet = await readObject({
      kubeConfig,
      object: { apiVersion: "apps/v1", kind: "DaemonSet", namespace: install.namespace, name: install.name },
    });
    existing = await readObject({
      kubeConfig,
      object: { apiVersion: "v1", kind: "Secret", namespace: install.namespace, name: secretName },
    });
  } catch (error) {
    throw asAppError(error, `reading DaemonSet ${install.namespace}/${install.name} and its key Secret`);
  }
  const containers = ((daemonSet as { spec?: { template?: { spec?: { containers?: unknown } } } } | null)
    ?.spec?.template?.spec?.containers ?? []) as Array<{
    image?: string;
    env?: Array<{ name: string; valueFrom?: unknown }>;
  }>;
  const capture = containers.find((container) =>
    (container.env ?? []).some(
      (entry) =>
        entry.name === HMAC_KEY_VARIABLE &&
        isDeepStrictEqual(entry.valueFrom, { secretKeyRef: { name: secretName, key: HMAC_SECRET_KEY } }),
    ),
  );
  if (capture === undefined)
    return { written: null, skipped: `the DaemonSet does not read its key from ${described}` };
  if (existing === null) return { written: null, skipped: `${described} is missing` };
  if (existing.metadata.labels?.[PART_OF_LABEL] !== PART_OF_VALUE)
    return { written: null, skipped: `${described} is not one Tapfleet made` };
  const hmacKey = await currentIngestKey(db, secrets, clusterId, options.now ?? new Date());
  // Rendered as the rollout renders it (the same labels and data), from the settings in force.
  const rendered = renderSensorManifests({
    settings: ZSensorSettingsSchema.parse({
      ...ZProfileSettingsSchema.parse(install.settings),
      hmacKey,
      clusterId,
    }),
    image: capture.image || "unknown",
    namespace: install.namespace,
    name: install.name,
    captureMode: install.captureMode === "capabilities" ? "capabilities" : "privileged",
    createNamespace: false,
  });
  try {
    await writeAdoptedKeySecret({ db, clusterId, kubeConfig, secret: rendered.objects.secret! });
  } catch (error) {
    throw asAppError(error, `writing the key Secret ${install.namespace}/${secretName}`);
  }
  return { written: described, skipped: null };
}
