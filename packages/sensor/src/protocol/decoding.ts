// What decoding a message body answers, and the framing shared by chunk and
// result uploads: one line of JSON metadata, "\n", then a classic pcap file.

import type { z } from "zod";

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: "invalid_body"; message: string };

export function zodMessage(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
}

/**
 * The shape shared by chunk and result uploads: one line of JSON metadata
 * (checked against `schema`), "\n", then exactly `pcapBytes` bytes of pcap.
 */
export function splitMetadataAndPcap<T extends { pcapBytes: number }>(
  body: Uint8Array,
  schema: z.ZodType<T>,
): DecodeResult<{ metadata: T; pcap: Uint8Array }> {
  const newline = body.indexOf(0x0a);
  if (newline === -1) return { ok: false, reason: "invalid_body", message: "no metadata line" };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, newline)));
  } catch {
    return { ok: false, reason: "invalid_body", message: "metadata line is not UTF-8 JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "invalid_body", message: zodMessage(parsed.error) };
  const metadata = parsed.data;
  const pcap = body.subarray(newline + 1);
  if (pcap.byteLength !== metadata.pcapBytes) {
    return {
      ok: false,
      reason: "invalid_body",
      message: `pcapBytes is ${metadata.pcapBytes} but ${pcap.byteLength} bytes follow`,
    };
  }
  return { ok: true, value: { metadata, pcap } };
}

/**
 * The two parts of an upload body: the checked metadata as one JSON line
 * (with its "\n"), and the pcap itself, not copied. `caller` names the
 * encoder in the error thrown when the metadata's size is not the pcap's.
 */
export function joinMetadataAndPcap<T extends { pcapBytes: number }>(
  caller: string,
  metadata: T,
  pcap: Uint8Array,
): [head: Uint8Array, pcap: Uint8Array] {
  if (metadata.pcapBytes !== pcap.byteLength)
    throw new Error(
      `${caller}: pcapBytes is ${metadata.pcapBytes} but the pcap has ${pcap.byteLength} bytes`,
    );
  return [new TextEncoder().encode(`${JSON.stringify(metadata)}\n`), pcap];
}

/** The parts of an upload body as one buffer. */
export function concatParts([head, pcap]: [head: Uint8Array, pcap: Uint8Array]): Uint8Array {
  const body = new Uint8Array(head.byteLength + pcap.byteLength);
  body.set(head, 0);
  body.set(pcap, head.byteLength);
  return body;
}
