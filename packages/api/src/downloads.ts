// The binary downloads of the REST API (pcap files): served by the server's
// own routes, since a procedure answers JSON, but declared here with their
// inputs so that the server validates with the same schemas the OpenAPI
// document shows.
import { z } from "zod";
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from "zod-openapi";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The media type of every pcap download. */
export const PCAP_MEDIA_TYPE = "application/vnd.tcpdump.pcap";

const ZSensorIdSchema = z
  .string()
  .regex(UUID, "must be a sensor id (UUID)")
  .meta({ description: "The sensor's id." });

/** GET /sensors/{id}/pcap: path parameters. */
export const ZSensorPcapParamsSchema = z.object({ id: ZSensorIdSchema });

/** GET /sensors/{id}/pcap: query parameters. */
export const ZSensorPcapQuerySchema = z.object({
  interface: z
    .string()
    .regex(/^[A-Za-z0-9._@:-]{1,15}$/, "must be an interface name (1–15 characters)")
    .optional()
    .meta({ description: "Only the packets captured on this interface; absent: all of them." }),
});

/** GET /sensors/{id}/actions/{actionId}/pcap: path parameters. */
export const ZSensorActionPcapParamsSchema = z.object({
  id: ZSensorIdSchema,
  actionId: z
    .string()
    .regex(UUID, "must be an action id (UUID)")
    .meta({ description: "The snapshot action's id." }),
});

const packetCountHeader = {
  "x-tapfleet-packets": {
    description: "How many packets the file holds.",
    schema: { type: "integer" as const },
  },
};

function pcapDownload(options: {
  operationId: string;
  summary: string;
  description: string;
  requestParams: ZodOpenApiOperationObject["requestParams"];
  headers?: Record<string, { description: string; schema: { type: "integer" } }>;
}): ZodOpenApiOperationObject {
  return {
    operationId: options.operationId,
    summary: options.summary,
    description: options.description,
    tags: ["sensors"],
    security: [{ bearer: [] }],
    requestParams: options.requestParams,
    responses: {
      200: {
        description: "A pcap file (libpcap format), sent as an attachment.",
        headers: { ...packetCountHeader, ...options.headers },
        content: { [PCAP_MEDIA_TYPE]: { schema: { type: "string", contentMediaType: PCAP_MEDIA_TYPE } } },
      },
      400: { description: "Invalid input" },
      401: { description: "Authorization not provided" },
      403: { description: "Insufficient access" },
      404: { description: "Not found" },
      500: { description: "Internal server error" },
    },
  };
}

/** The download routes, for the OpenAPI document (paths relative to /api/v1). */
export const DOWNLOAD_OPENAPI_PATHS: ZodOpenApiPathsObject = {
  "/sensors/{id}/pcap": {
    get: pcapDownload({
      operationId: "sensors-downloadPcap",
      summary: "Download a sensor's captured packets",
      description:
        "The sensor's recent packet chunks, oldest first, joined into one pcap file. Needs the viewer role. A sensor that has sent no chunks is 404.",
      requestParams: { path: ZSensorPcapParamsSchema, query: ZSensorPcapQuerySchema },
      headers: {
        "x-tapfleet-skipped-chunks": {
          description: "Chunks left out because their link type or byte order differs from the first one's.",
          schema: { type: "integer" },
        },
      },
    }),
  },
  "/sensors/{id}/actions/{actionId}/pcap": {
    get: pcapDownload({
      operationId: "sensors-downloadSnapshotPcap",
      summary: "Download a snapshot's pcap file",
      description:
        "The pcap file a sensor uploaded for a snapshot action. Needs the viewer role. A missing sensor, action or result is 404.",
      requestParams: { path: ZSensorActionPcapParamsSchema },
    }),
  },
};
