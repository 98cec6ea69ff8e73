/**
 * Heap sizing for a process that runs for days (imported first by main.ts, so it holds
 * before the rest loads). V8 sizes its heap for throughput: with gigabytes free it lets
 * garbage from each batch or seeding chunk pile up to several times what is live (a 100k
 * backfill peaked near 400 MB resident for ~50 MB live). An old generation that grows by
 * 20 % over what survived each full collection keeps resident memory near the live size
 * for little CPU (measured: a heap churning 300k objects settles at 149 MB instead of
 * 375 MB). The young generation cannot be sized from here — V8 fixes it when the process
 * starts — so `--max-semi-space-size` is given on node's command line where it matters
 * (docs/operations.md "Memory"). Options given to node itself (`NODE_OPTIONS`, flags) win.
 */
import { setFlagsFromString } from "node:v8"

const given = `${process.env["NODE_OPTIONS"] ?? ""} ${process.execArgv.join(" ")}`
if (!given.includes("--heap-growing-percent")) setFlagsFromString("--heap-growing-percent=20")
