// The server's configuration: the only place that reads process.env.
// Every variable is documented in the README's configuration reference.
import path from "node:path";
import { ZPasswordSchema } from "@tapfleet/sensor/passwords";
import { z } from "zod";

/**
 * The address agents report to, as https://host[:port]: agents speak HTTPS to a
 * host and a port, so a path, a query or credentials would be lost on the way
 * and are refused rather than dropped.
 */
export const ZPublicUrlSchema = z.string().transform((value, context) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    context.addIssue({ code: "custom", message: "must be a URL such as https://tapfleet.example.com" });
    return z.NEVER;
  }
  const refuse = (message: string) => {
    context.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  if (url.protocol !== "https:")
    return refuse(`must start with https:// (agents report over HTTPS only), not ${url.protocol}//`);
  if (url.username !== "" || url.password !== "") return refuse("must not carry a user name or password");
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "")
    return refuse(
      "must be only https://host[:port]: agents report to a host and port, without a path or query",
    );
  return {
    url: url.origin,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? 443 : Number(url.port),
  };
});
export type PublicUrl = z.output<typeof ZPublicUrlSchema>;

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const ZServerEnvSchema = z
  .object({
    PORT: z.coerce
      .number({ message: "must be a number" })
      .int("must be an integer")
      .min(0)
      .max(65535, "must be at most 65535")
      .default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string")
      .optional(),
    TAPFLEET_DATA_DIR: z.string().min(1).default(".data"),
    TAPFLEET_ADMIN_PASSWORD: ZPasswordSchema.optional(),
    TAPFLEET_SERVE_DASHBOARD: booleanFlag.default(true),
    TAPFLEET_WEB_DIR: z.string().min(1).optional(),
    TAPFLEET_SECURE_COOKIES: z
      .enum(["auto", "true", "false"], { message: "must be auto, true or false" })
      .default("auto"),
    TAPFLEET_TRUST_PROXY: booleanFlag.default(false),
    TAPFLEET_SESSION_TTL_HOURS: z.coerce
      .number({ message: "must be a number" })
      .positive("must be positive")
      .max(24 * 90)
      .default(12),
    TAPFLEET_SESSION_IDLE_MINUTES: z.coerce
      .number({ message: "must be a number" })
      .positive("must be positive")
      .default(120),
    TAPFLEET_BODY_LIMIT_BYTES: z.coerce
      .number({ message: "must be a number" })
      .int()
      .min(1024, "must be at least 1024")
      .default(1_048_576),
    /** How often an open live stream checks again that its caller may still watch it. */
    TAPFLEET_LIVE_RECHECK_MS: z.coerce
      .number({ message: "must be a number" })
      .int("must be a whole number of milliseconds")
      .min(50, "must be at least 50")
      .max(300_000, "must be at most 300000 (5 minutes)")
      .default(30_000),
    TAPFLEET_SECRET_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/_-]{43}=?$/, "must be 32 random bytes in base64 (openssl rand -base64 32)")
      .optional(),
    TAPFLEET_STATS_RETENTION_DAYS: z.coerce
      .number({ message: "must be a number" })
      .int("must be a whole number of days")
      .min(1, "must be at least 1")
      .max(3650)
      .default(7),
    /** Serve HTTPS with this certificate (PEM, chain allowed) and key; both or neither. */
    TAPFLEET_TLS_CERT_FILE: z.string().min(1).optional(),
    TAPFLEET_TLS_KEY_FILE: z.string().min(1).optional(),
    /** Adds POST /ingest/v1/bare, which reads a body and answers without verifying or storing: the baseline of `npm run bench:ingest`. */
    TAPFLEET_BENCH_BARE_ENDPOINT: booleanFlag.default(false),
    /**
     * The demo launcher (simulated clusters running real agents): "off", "available" (an admin
     * starts it from the empty Fleet page or POST /api/v1/demo/start) or "start" (at boot: `npm run demo`).
     */
    TAPFLEET_DEMO: z
      .enum(["off", "available", "start"], { message: "must be off, available or start" })
      .default("available"),
    /**
     * Where agents reach this server (https://host[:port]): the collector host and port the
     * install form and the enrollment dialog offer. Unset, the dashboard guesses from its own address.
     */
    TAPFLEET_PUBLIC_URL: ZPublicUrlSchema.optional(),
    /** Where the demo's simulated containers find programs. */
    PATH: z.string().min(1).default("/usr/local/bin:/usr/bin:/bin"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((env, context) => {
    // Half a TLS setting would silently serve plain HTTP: refuse it, naming the missing half.
    if (env.TAPFLEET_TLS_CERT_FILE && !env.TAPFLEET_TLS_KEY_FILE)
      context.addIssue({
        code: "custom",
        path: ["TAPFLEET_TLS_KEY_FILE"],
        message: "must be set too when TAPFLEET_TLS_CERT_FILE is (the certificate's private key)",
      });
    if (env.TAPFLEET_TLS_KEY_FILE && !env.TAPFLEET_TLS_CERT_FILE)
      context.addIssue({
        code: "custom",
        path: ["TAPFLEET_TLS_CERT_FILE"],
        message: "must be set too when TAPFLEET_TLS_KEY_FILE is (the certificate for that key)",
      });
  });

export type ServerEnv = z.infer<typeof ZServerEnvSchema>;

/** Parses the environment; a bad value is reported with the variable's name. */
export function loadServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = ZServerEnvSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid configuration: ${lines.join("; ")}`);
  }
  return result.data;
}

export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
