// ws exports its Receiver (wrapper.mjs) but @types/ws does not declare it.
import * as ws from 'ws';

/**
 * A fix applied to `ws` (8.x) in the gateway process: each finished message's fragment list is
 * emptied once the message has been handed on.
 *
 * Why: a Receiver lives as long as its connection, so it is in V8's old generation. For every
 * message it makes a fresh `_fragments` array and drops the previous one, which still holds the
 * message's payload (a view on the socket's read buffer). The dropped array is garbage, but only a
 * full collection knows that: until one runs, the young-generation collector treats it as live and
 * copies the payload and read buffer along, then promotes them. With 20,000 miners sending a share
 * every few seconds that was about 2 MB/s of dead data pushed into the old generation, a full
 * collection every 10-20 s, and each one stalled every miner's answer for 0.2-0.7 s (measured with
 * --trace-gc and V8's sampling heap profiler, README "Load, faults and hostile input").
 *
 * Emptying the dropped array cuts those references, so the payload dies young, and reusing it
 * (instead of the fresh one, which would live until the next message) leaves no per-message
 * array to promote. It changes nothing
 * a caller can see: the message was already built from the fragments (and emitted, or its
 * emission scheduled with the built value) when `dataMessage` returns. It is not done for an
 * unfinished fragmented message (`ws` keeps the same array then), nor for the `fragments` binary
 * type (the array itself is the message). test/ws-receiver-fragments.test.ts checks both.
 */

interface ReceiverInternals {
  _fragments: unknown[];
  _binaryType: string;
  dataMessage(cb: (error?: Error) => void): void;
}

let applied = false;

export function releaseFinishedFragments(): void {
  if (applied) return;
  const receiver = (ws as unknown as { Receiver?: { prototype: ReceiverInternals } }).Receiver;
  const prototype = receiver?.prototype;
  const dataMessage = prototype?.dataMessage;
  if (prototype === undefined || typeof dataMessage !== 'function') throw new Error('ws Receiver has no dataMessage: the fragment fix does not fit this ws version');
  applied = true;
  prototype.dataMessage = function (this: ReceiverInternals, cb) {
    const fragments = this._fragments;
    dataMessage.call(this, cb);
    if (this._fragments === fragments || this._binaryType === 'fragments') return;
    // Emptied and kept: the fresh array ws made instead would itself live until the next message.
    fragments.length = 0;
    if (this._fragments.length === 0) this._fragments = fragments;
  };
}
