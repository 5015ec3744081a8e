// Nonces of signed ingest requests are kept only until the signature they
// guard would be refused as too old anyway; after that they are purged.
import type { Db } from "@tapfleet/db";

/** Deletes the nonces that expired before `now`. Returns how many were deleted. */
export async function purgeExpiredNonces(options: { db: Db; now?: Date }): Promise<number> {
  const { count } = await options.db.ingestNonce.deleteMany({
    where: { expiresAt: { lt: options.now ?? new Date() } },
  });
  return count;
}
