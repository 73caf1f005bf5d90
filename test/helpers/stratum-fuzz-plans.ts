// How fuzzed messages reach the gateway: TCP byte streams cut into packets, WebSocket frames
// through the ws client, and hand-made frames on a raw socket. Every plan is drawn from an Rng.
import type { Rng } from './fuzz-rng.js';
import { fuzzMessage, mutateRequest, request, SEQUENCES, toJson, type FuzzContext } from './stratum-fuzz-messages.js';

// ---------------------------------------------------------------------------------------------
// Transport plans.

export interface TcpChunk {
  bytes: Buffer;
  /** Wait this long after writing it (partial frames arrive in pieces, with gaps). */
  delayMs: number;
}

export interface TcpPlan {
  label: string;
  chunks: TcpChunk[];
  /**
   * 'finish': a final '\n' completes whatever partial line is left, then the connection is probed.
   * 'abandon': the last frame is never finished; the client hangs up after holdMs.
   */
  ending: 'finish' | 'abandon';
  holdMs: number;
}

/** Splits a stream into writes at random byte boundaries (across UTF-8 sequences too), with gaps. */
function packetize(stream: Buffer, rng: Rng, mode: 'one' | 'split' | 'drip'): TcpChunk[] {
  if (mode === 'one' || stream.length < 2) return [{ bytes: stream, delayMs: 0 }];
  // No more pieces than bytes: a short stream has only length - 1 places to cut.
  const pieces = Math.min(stream.length, mode === 'drip' ? 120 : rng.range(2, 12));
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1) cuts.add(rng.range(1, stream.length - 1));
  const points = [0, ...[...cuts].sort((x, y) => x - y), stream.length];
  const chunks: TcpChunk[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    chunks.push({ bytes: stream.subarray(points[i]!, points[i + 1]!), delayMs: mode === 'drip' ? rng.int(3) : rng.chance(0.5) ? rng.int(40) : 0 });
  }
  return chunks;
}

function separator(rng: Rng): string {
  return rng.pick(['\n', '\n', '\n', '\n', '\r\n', '\n\n', ' \n', '\r\n\r\n', '\n\r']);
}

/** A TCP case: what to send, how it is cut into writes, and whether the last frame is finished. */
export function tcpPlan(ctx: FuzzContext, rng: Rng): TcpPlan {
  const roll = rng.int(100);
  const messages: Buffer[] = [];
  let label: string;
  let mode: 'one' | 'split' | 'drip' = rng.pick(['one', 'one', 'split', 'split', 'drip']);
  let id = 1;
  if (roll < 12) {
    // A sequence out of order, each message possibly mutated.
    const seq = rng.pick(SEQUENCES);
    for (const name of seq) {
      const req = request(ctx, rng, name, id++);
      messages.push(Buffer.from(toJson(rng.chance(0.3) ? mutateRequest(req, rng, ctx.maxMessageBytes) : req)));
    }
    label = `sequence(${seq.join(',')})`;
  } else if (roll < 22) {
    // A flood: hundreds of messages in a few writes, past the burst and the rate limit.
    const n = rng.range(150, 450);
    const same = rng.chance(0.5);
    const one = fuzzMessage(ctx, rng, id);
    for (let i = 0; i < n; i++) messages.push(same ? one.bytes : fuzzMessage({ ...ctx, maxMessageBytes: 600 }, rng, id++).bytes);
    label = `flood(${n},${same ? one.kind : 'mixed'})`;
    mode = rng.pick(['one', 'split']);
  } else {
    const n = rng.range(1, 8);
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      const m = fuzzMessage(ctx, rng, id++);
      messages.push(m.bytes);
      kinds.push(m.kind);
    }
    label = `messages(${kinds.join(',')})`;
  }
  // Many messages in one packet is the default; drips are kept short so a case stays quick.
  let stream = Buffer.concat(messages.flatMap((m) => [m, Buffer.from(separator(rng))]));
  if (mode === 'drip' && stream.length > 2_000) mode = 'split';
  let ending: TcpPlan['ending'] = 'finish';
  if (rng.chance(0.12)) {
    // The last frame never finished: cut it short and keep the line open a while.
    stream = stream.subarray(0, Math.max(1, stream.length - rng.range(1, Math.min(stream.length, 40))));
    ending = 'abandon';
  }
  return { label: `${label} ${mode}${ending === 'abandon' ? ' abandoned' : ''}`, chunks: packetize(stream, rng, mode), ending, holdMs: rng.range(50, 300) };
}

export type WsFrame =
  /** A text message, cut into fragments at `cuts` (byte offsets; may split UTF-8 sequences). */
  | { kind: 'text'; data: Buffer; cuts: number[]; pingBetween: boolean }
  | { kind: 'binary'; data: Buffer }
  | { kind: 'ping'; data: Buffer }
  /** A client frame without the mask: a protocol violation the server must refuse. */
  | { kind: 'unmasked'; data: Buffer };

export interface WsPlan {
  label: string;
  frames: { frame: WsFrame; delayMs: number }[];
}

/** A WebSocket case sent through the `ws` client: text, binary, fragmented, oversize, unmasked. */
export function wsPlan(ctx: FuzzContext, rng: Rng): WsPlan {
  const frames: WsPlan['frames'] = [];
  const kinds: string[] = [];
  const text = (data: Buffer) => {
    const fragments = rng.chance(0.25) ? rng.range(2, 6) : 1;
    const cuts = new Set<number>();
    while (data.length > 1 && cuts.size < Math.min(fragments - 1, data.length - 1)) cuts.add(rng.range(1, data.length - 1));
    return { kind: 'text' as const, data, cuts: [...cuts].sort((a, b) => a - b), pingBetween: rng.chance(0.3) };
  };
  const roll = rng.int(100);
  let id = 1;
  if (roll < 12) {
    const seq = rng.pick(SEQUENCES);
    for (const name of seq) {
      const req = request(ctx, rng, name, id++);
      frames.push({ frame: text(Buffer.from(toJson(rng.chance(0.3) ? mutateRequest(req, rng, ctx.maxMessageBytes) : req))), delayMs: 0 });
    }
    kinds.push(`sequence(${seq.join(',')})`);
  } else if (roll < 20) {
    const n = rng.range(150, 400);
    const small = { ...ctx, maxMessageBytes: 600 };
    for (let i = 0; i < n; i++) frames.push({ frame: { kind: 'text', data: fuzzMessage(small, rng, id++).bytes, cuts: [], pingBetween: false }, delayMs: 0 });
    kinds.push(`flood(${n})`);
  } else {
    for (let n = rng.range(1, 6); n > 0; n--) {
      const r = rng.int(100);
      const m = fuzzMessage(ctx, rng, id++);
      if (r < 80) {
        // Text frames may carry any bytes: invalid UTF-8 here is the server's to refuse (1007).
        frames.push({ frame: text(m.bytes), delayMs: rng.chance(0.3) ? rng.int(30) : 0 });
        kinds.push(m.kind);
      } else if (r < 86) {
        frames.push({ frame: { kind: 'binary', data: m.bytes }, delayMs: 0 });
        kinds.push('binary');
      } else if (r < 93) {
        frames.push({ frame: { kind: 'ping', data: rng.bytes(rng.int(126)) }, delayMs: 0 });
        kinds.push('ping');
      } else if (r < 96) {
        frames.push({ frame: { kind: 'unmasked', data: m.bytes }, delayMs: 0 });
        kinds.push('unmasked');
      } else {
        frames.push({ frame: text(Buffer.from('')), delayMs: 0 });
        kinds.push('empty');
      }
    }
  }
  return { label: kinds.join(','), frames };
}

/** One WebSocket frame, written by hand: any opcode, reserved bits, length lies, mask or none. */
export function wsFrame(opts: { fin?: boolean; rsv?: number; opcode: number; payload: Buffer; mask?: Buffer | null; declaredLength?: bigint }): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask === undefined ? Buffer.from([1, 2, 3, 4]) : opts.mask;
  const len = opts.declaredLength ?? BigInt(opts.payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opts.opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126n) head.push(maskBit | Number(len));
  else if (len < 65536n) head.push(maskBit | 126, Number(len >> 8n) & 0xff, Number(len) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(8 * i)) & 0xffn));
  }
  const payload = Buffer.from(opts.payload);
  if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from(head), mask ?? Buffer.alloc(0), payload]);
}

export interface RawWsPlan {
  label: string;
  /** The HTTP upgrade request, possibly damaged. */
  handshake: string;
  /** Whether the handshake is a valid one (frames follow only then). */
  validHandshake: boolean;
  frames: Buffer;
}

/** Protocol-level garbage no well-behaved client library will send: bad opcodes, RSV bits, lies. */
export function rawWsPlan(ctx: FuzzContext, rng: Rng, hostPort: string): RawWsPlan {
  const key = rng.bytes(16).toString('base64');
  const good = `GET /stratum HTTP/1.1\r\nHost: ${hostPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  if (rng.chance(0.2)) {
    const bad = rng.pick([
      good.replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'),
      good.replace(`Sec-WebSocket-Key: ${key}\r\n`, ''),
      good.replace(key, 'short'),
      good.replace('GET', 'POST'),
      good.replace('/stratum', '/stratum/../stratum'),
      good.replace('Upgrade: websocket', 'Upgrade: h2c'),
      good.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nX-Pad: ${'p'.repeat(rng.int(4000))}\r\n\r\n`),
      'GARBAGE\r\n\r\n',
      `GET /stratum HTTP/1.1\r\nHost: ${hostPort}\r\n\u0000\r\n\r\n`,
    ]);
    return { label: 'bad-handshake', handshake: bad, validHandshake: false, frames: Buffer.alloc(0) };
  }
  const payload = () => fuzzMessage(ctx, rng, rng.int(1000)).bytes;
  const pick = rng.int(11);
  const frames: Buffer[] = [];
  let label: string;
  switch (pick) {
    case 0:
      frames.push(wsFrame({ opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: payload() }));
      label = 'reserved-opcode';
      break;
    case 1:
      frames.push(wsFrame({ opcode: 1, rsv: rng.range(1, 7), payload: payload() }));
      label = 'rsv-bits';
      break;
    case 2:
      frames.push(wsFrame({ opcode: 1, payload: Buffer.alloc(0), declaredLength: rng.pick([2n ** 63n - 1n, 2n ** 53n, BigInt(ctx.maxMessageBytes) + 1n, 2n ** 32n]) }));
      label = 'length-lie';
      break;
    case 3:
      frames.push(wsFrame({ opcode: 9, payload: rng.bytes(rng.range(126, 300)) }));
      label = 'oversize-control';
      break;
    case 4:
      frames.push(wsFrame({ opcode: 9, fin: false, payload: rng.bytes(4) }));
      label = 'fragmented-control';
      break;
    case 5:
      frames.push(wsFrame({ opcode: 0, payload: payload() }));
      label = 'continuation-first';
      break;
    case 6:
      frames.push(wsFrame({ opcode: 1, fin: false, payload: Buffer.from('{"id":1,') }), wsFrame({ opcode: 1, payload: payload() }));
      label = 'text-inside-fragments';
      break;
    case 7: {
      const code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 1000, 4000]);
      const reason = rng.chance(0.5) ? Buffer.from([0xff, 0xfe]) : Buffer.from('bye');
      frames.push(wsFrame({ opcode: 8, payload: rng.chance(0.2) ? Buffer.from([3]) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), reason]) }));
      label = `close(${code})`;
      break;
    }
    case 8: {
      // Many tiny fragments of one message.
      const m = payload();
      let start = 0;
      let parts = 0;
      do {
        const end = Math.min(m.length, start + rng.range(1, 8));
        frames.push(wsFrame({ opcode: parts++ === 0 ? 1 : 0, fin: end >= m.length, payload: m.subarray(start, end) }));
        start = end;
      } while (start < m.length);
      label = `tiny-fragments(${parts})`;
      break;
    }
    case 9:
      frames.push(rng.bytes(rng.range(1, 200)));
      label = 'random-bytes';
      break;
    default:
      frames.push(wsFrame({ opcode: 1, payload: payload(), mask: rng.chance(0.5) ? null : rng.bytes(4) }));
      label = 'mask-variants';
  }
  return { label, handshake: good, validHandshake: true, frames: Buffer.concat(frames) };
}
