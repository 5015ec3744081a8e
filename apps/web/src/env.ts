// The dashboard's environment, read only here, on the server (nothing of it reaches a browser).
import { z } from "zod";

/** Set by the Tapfleet server process, which runs the dashboard, once its loopback listener is up. */
const ZInternalUrlSchema = z.url({ protocol: /^http$/ });

/** Where the dashboard's server rendering reaches the server's tRPC (read per request: set after start). */
export function readInternalUrl(): string {
  const parsed = ZInternalUrlSchema.safeParse(process.env.TAPFLEET_INTERNAL_URL);
  if (!parsed.success) {
    throw new Error(
      "TAPFLEET_INTERNAL_URL is not an http URL: the dashboard is rendered inside the Tapfleet server process, which sets it (npm start)",
    );
  }
  return parsed.data;
}
