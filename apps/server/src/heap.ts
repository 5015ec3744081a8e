// How far the server's JavaScript heap may grow between full garbage collections.
//
// After a full collection V8 lets the old generation grow by a factor it picks from how little
// time the collector took, up to 4× what survived. The inventory keeps about 400 MB live for
// 100,000 nodes and turns over short-lived data at a steady rate (list pages, judgements, batch
// writes), so the heap reached 1.1–1.2 GB before each collection and the process 1.45–1.5 GB,
// although a third of that was garbage. At 2× the peak is 1.1 GB for the same sync time and CPU
// (docs/benchmarks.md, "inventory"). The flag is read at each collection, so setting it here,
// before the server starts, applies to every way the server is started (npm start, the demo,
// tests, benches). It is not a limit: the heap still grows as far as the live data needs.
import { setFlagsFromString } from "node:v8";

/** The old generation may grow to (100 + this) % of what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 100;

setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
