// Decoding of `application/vnd.kubernetes.protobuf` request bodies for the
// kinds kubectl creates through its typed clients (`kubectl create configmap|
// secret|namespace|serviceaccount|clusterrole|clusterrolebinding|role|rolebinding`):
// those send protobuf and do not fall back to JSON on 415. Field numbers are
// those of k8s.io/api's generated.proto files. Only decoding: responses stay JSON,
// which kubectl accepts (`Accept: application/vnd.kubernetes.protobuf,application/json`).

import { badRequest } from "../errors.ts";
import { failure } from "./respond.ts";

type Field =
  | { name: string; type: "string" | "bytes" | "int64" | "int32" | "bool" | "time" }
  | { name: string; type: "message"; message: () => Message }
  | { name: string; type: "map"; value: "string" | "bytes" };

interface Message {
  fields: Record<number, Field & { repeated?: boolean }>;
}

const s = (name: string): Field => ({ name, type: "string" });
const repeated = (field: Field): Field & { repeated: true } => ({ ...field, repeated: true });
const msg = (name: string, message: () => Message): Field => ({ name, type: "message", message });

const ownerReference: Message = {
  fields: {
    1: s("kind"),
    3: s("name"),
    4: s("uid"),
    5: s("apiVersion"),
    6: { name: "controller", type: "bool" },
    7: { name: "blockOwnerDeletion", type: "bool" },
  },
};
const objectMeta: Message = {
  fields: {
    1: s("name"),
    2: s("generateName"),
    3: s("namespace"),
    5: s("uid"),
    6: s("resourceVersion"),
    7: { name: "generation", type: "int64" },
    11: { name: "labels", type: "map", value: "string" },
    12: { name: "annotations", type: "map", value: "string" },
    13: repeated(msg("ownerReferences", () => ownerReference)),
    14: repeated(s("finalizers")),
  },
};
const typeMeta: Message = { fields: { 1: s("apiVersion"), 2: s("kind") } };
const unknownEnvelope: Message = {
  fields: {
    1: msg("typeMeta", () => typeMeta),
    2: { name: "raw", type: "bytes" },
    3: s("contentEncoding"),
    4: s("contentType"),
  },
};
const policyRule: Message = {
  fields: {
    1: repeated(s("verbs")),
    2: repeated(s("apiGroups")),
    3: repeated(s("resources")),
    4: repeated(s("resourceNames")),
    5: repeated(s("nonResourceURLs")),
  },
};
const labelSelector: Message = {
  fields: {
    1: { name: "matchLabels", type: "map", value: "string" },
    2: repeated(
      msg("matchExpressions", () => ({
        fields: { 1: s("key"), 2: s("operator"), 3: repeated(s("values")) },
      })),
    ),
  },
};
const subject: Message = { fields: { 1: s("kind"), 2: s("apiGroup"), 3: s("name"), 4: s("namespace") } };
const roleRef: Message = { fields: { 1: s("apiGroup"), 2: s("kind"), 3: s("name") } };
const objectReference: Message = {
  fields: {
    1: s("kind"),
    2: s("namespace"),
    3: s("name"),
    4: s("uid"),
    5: s("apiVersion"),
    6: s("resourceVersion"),
    7: s("fieldPath"),
  },
};
const meta = msg("metadata", () => objectMeta);

/** Top-level messages by apiVersion/kind. */
const KINDS: Record<string, Message> = {
  "v1/ConfigMap": {
    fields: {
      1: meta,
      2: { name: "data", type: "map", value: "string" },
      3: { name: "binaryData", type: "map", value: "bytes" },
      4: { name: "immutable", type: "bool" },
    },
  },
  "v1/Secret": {
    fields: {
      1: meta,
      2: { name: "data", type: "map", value: "bytes" },
      3: s("type"),
      4: { name: "stringData", type: "map", value: "string" },
      5: { name: "immutable", type: "bool" },
    },
  },
  "v1/Namespace": {
    fields: { 1: meta, 2: msg("spec", () => ({ fields: { 1: repeated(s("finalizers")) } })) },
  },
  "v1/ServiceAccount": {
    fields: {
      1: meta,
      2: repeated(msg("secrets", () => objectReference)),
      3: { name: "automountServiceAccountToken", type: "bool" },
      4: repeated(msg("imagePullSecrets", () => ({ fields: { 1: s("name") } }))),
    },
  },
  "rbac.authorization.k8s.io/v1/ClusterRole": {
    fields: {
      1: meta,
      2: repeated(msg("rules", () => policyRule)),
      3: msg("aggregationRule", () => ({
        fields: { 1: repeated(msg("clusterRoleSelectors", () => labelSelector)) },
      })),
    },
  },
  "rbac.authorization.k8s.io/v1/Role": { fields: { 1: meta, 2: repeated(msg("rules", () => policyRule)) } },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": {
    fields: { 1: meta, 2: repeated(msg("subjects", () => subject)), 3: msg("roleRef", () => roleRef) },
  },
  "rbac.authorization.k8s.io/v1/RoleBinding": {
    fields: { 1: meta, 2: repeated(msg("subjects", () => subject)), 3: msg("roleRef", () => roleRef) },
  },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

class Reader {
  offset = 0;
  constructor(private readonly buffer: Buffer) {}

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.buffer.length) throw new Error("truncated varint");
      const byte = this.buffer[this.offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  }

  bytes(): Buffer {
    const length = Number(this.varint());
    if (this.offset + length > this.buffer.length) throw new Error("truncated field");
    const out = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.offset += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function decodeTime(buffer: Buffer): string {
  const fields = decodeMessage(buffer, { fields: { 1: { name: "seconds", type: "int64" } } });
  const seconds = typeof fields.seconds === "number" ? fields.seconds : 0;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function decodeMapEntry(buffer: Buffer, value: "string" | "bytes"): [string, string] {
  const reader = new Reader(buffer);
  let key = "";
  let entry = "";
  while (!reader.done) {
    const tag = Number(reader.varint());
    const number = tag >> 3;
    if ((tag & 7) !== 2) {
      reader.skip(tag & 7);
      continue;
    }
    const data = reader.bytes();
    if (number === 1) key = data.toString("utf8");
    else if (number === 2) entry = value === "bytes" ? data.toString("base64") : data.toString("utf8");
  }
  return [key, entry];
}

function decodeMessage(buffer: Buffer, message: Message): Record<string, unknown> {
  const reader = new Reader(buffer);
  const out: Record<string, unknown> = {};
  while (!reader.done) {
    const tag = Number(reader.varint());
    const field = message.fields[tag >> 3];
    const wireType = tag & 7;
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    let value: unknown;
    switch (field.type) {
      case "string":
        value = reader.bytes().toString("utf8");
        break;
      case "bytes":
        value = Buffer.from(reader.bytes());
        break;
      case "int64":
      case "int32":
        value = Number(BigInt.asIntN(64, reader.varint()));
        break;
      case "bool":
        value = reader.varint() !== 0n;
        break;
      case "time":
        value = decodeTime(reader.bytes());
        break;
      case "message":
        value = decodeMessage(reader.bytes(), field.message());
        break;
      case "map": {
        const [key, entry] = decodeMapEntry(reader.bytes(), field.value);
        const map = (out[field.name] ??= {}) as Record<string, string>;
        map[key] = entry;
        continue;
      }
    }
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    // Protobuf always carries non-pointer strings; JSON (omitempty) leaves empty ones out.
    else if (value !== "") out[field.name] = value;
  }
  return out;
}

/**
 * Decodes a Kubernetes protobuf body into the JSON object it stands for.
 * Throws 415 for kinds without a message table here and 400 for malformed input.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest(
      "the object provided is unrecognized: provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
    );
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = decodeMessage(body.subarray(MAGIC.length), unknownEnvelope);
  } catch (error) {
    throw badRequest(`the object provided is unrecognized: ${(error as Error).message}`);
  }
  const type = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const message = KINDS[`${type.apiVersion ?? ""}/${type.kind ?? ""}`];
  if (!message || !(envelope.raw instanceof Buffer)) {
    throw failure(
      415,
      "UnsupportedMediaType",
      "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
      {},
    );
  }
  try {
    return { apiVersion: type.apiVersion, kind: type.kind, ...decodeMessage(envelope.raw, message) };
  } catch (error) {
    throw badRequest(`the object provided is unrecognized: ${(error as Error).message}`);
  }
}
