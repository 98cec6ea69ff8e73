/**
 * Heap sizing for a process that runs for days (imported first by main.ts, so it holds
 * before the rest loads). V8 sizes its heap for throughput: with gigabytes free it lets
 * garbage from each batch or seeding chunk pile up to several times what is live (a 100k
 * backfill peaked near 400 MB resident for ~50 MB live). A heap that grows by 20 % over
 * what survived each full collection, and a young generation of at most 4 MB per
 * semi-space, keep resident memory near the live size for little CPU. Options given to
 * node itself (`NODE_OPTIONS`, flags) win.
 */
import { setFlagsFromString } from "node:v8"

const given = `${process.env["NODE_OPTIONS"] ?? ""} ${process.execArgv.join(" ")}`
if (!given.includes("--heap-growing-percent")) setFlagsFromString("--heap-growing-percent=20")
if (!given.includes("--max-semi-space-size")) setFlagsFromString("--max-semi-space-size=4")
