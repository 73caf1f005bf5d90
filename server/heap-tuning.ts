import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, in percent.
 *
 * A gateway holds ~6 KB of small objects per connection (125 MB at 20,000) and promotes little, so
 * V8's own heuristic grows the limit by only ~10% after each full collection: one every minute or
 * two under load. Marking 125 MB takes ~150 ms of the event loop within ~300 ms on 2 cores, and
 * every miner's answer waits meanwhile; in the load run one such collection in the 60 s window
 * was enough to push p99 past 100 ms. At 100% (the limit is twice the live heap) and the promotion rate
 * measured (about 0.1 MB/s) they come every quarter of an hour or so, and the heap may reach twice its live size in between: memory traded
 * for latency, as servers commonly do. Measured with --trace-gc, README "Load, faults and hostile
 * input".
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Applies HEAP_GROWING_PERCENT to this process. Called by the gateway's CLIs, not by
 * startGateway, so that tests and embedders keep their own settings. V8 reads this flag each time
 * it sets the next limit, so setting it after start takes effect (a flag V8 did not know would be
 * ignored silently: test/heap-tuning.test.ts checks that this Node knows it).
 */
export function tuneHeapForManyConnections(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
