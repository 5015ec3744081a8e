// Request bodies: bounded reading and decoding of JSON or YAML objects, with
// the API server's 400/413/415 answers for what cannot be decoded.

import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { badRequest } from "../errors.ts";
import { decodeProtobufObject } from "./protobuf.ts";
import { failure } from "./respond.ts";

/** The API server's default request body limit is 3 MiB. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw failure(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728", {});
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBytes(req)).toString("utf8");
}

/** Reads and decodes a create/update body: JSON, YAML or (for a few kinds) protobuf. */
export async function readObject(req: IncomingMessage, kind: string): Promise<Record<string, unknown>> {
  const bytes = await readBodyBytes(req);
  if (mediaType(req.headers["content-type"]) === "application/vnd.kubernetes.protobuf")
    return decodeProtobufObject(bytes);
  return decodeObject(bytes.toString("utf8"), req.headers["content-type"], kind);
}

/** The media type without parameters, lower-cased. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Decodes a create/update body. JSON and YAML are accepted, as the API server
 * does (`application/yaml`); anything that is not an object is a 400.
 */
export function decodeObject(
  text: string,
  contentType: string | undefined,
  kind?: string,
): Record<string, unknown> {
  // The API server's decoder wording: "the object provided is unrecognized (must be of type DaemonSet): …".
  const unrecognized = `the object provided is unrecognized${kind ? ` (must be of type ${kind})` : ""}`;
  const type = mediaType(contentType);
  if (type !== "" && type !== "application/json" && type !== "application/yaml" && type !== "*/*") {
    // Protobuf comes through readObject; anything else is not a Kubernetes object encoding.
    throw failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
      {},
    );
  }
  let value: unknown;
  try {
    value = type === "application/yaml" ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw badRequest(
      `${unrecognized}: couldn't get version/kind; ${type === "application/yaml" ? "yaml" : "json"} parse error: ${detail}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest(
      `${unrecognized}: couldn't get version/kind; the request body must be a JSON or YAML object`,
    );
  }
  return value as Record<string, unknown>;
}

/** Decodes a PATCH body that must be JSON (all patch types but apply). */
export function decodePatchJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw badRequest(`error decoding patch: ${detail}`);
  }
}
