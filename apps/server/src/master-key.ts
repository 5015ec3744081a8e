// The master key that encrypts credentials at rest. From TAPFLEET_SECRET_KEY,
// or generated once into the data directory (mode 0600) when not given.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export async function loadMasterKey(options: {
  fromEnv: string | undefined;
  dataDir: string;
  warn: (message: string) => void;
}): Promise<Buffer> {
  if (options.fromEnv) return Buffer.from(options.fromEnv, "base64");
  const file = path.join(options.dataDir, "secret.key");
  if (existsSync(file)) {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte key in base64`);
    return key;
  }
  await mkdir(options.dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, key.toString("base64") + "\n", { mode: 0o600 });
  await chmod(file, 0o600);
  options.warn(
    `generated the master key that encrypts stored credentials in ${file}; keep it with the database backups, or set TAPFLEET_SECRET_KEY`,
  );
  return key;
}
