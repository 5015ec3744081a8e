// Vitest global setup: one scratch directory for the whole run, where test
// support puts certificates, config files and proxy logs (scratchDir in
// packages/agent/test/support/run.ts), removed when the run ends. Test
// processes are stopped by the runner rather than exiting on their own, so
// they cannot clean up after themselves.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), "tapfleet-test-"));
  // Traversable, so that helpers dropping privileges (tinyproxy runs as nobody) reach their own directory.
  chmodSync(root, 0o711);
  process.env.TAPFLEET_TEST_SCRATCH = root;
  return () => rmSync(root, { recursive: true, force: true });
}
