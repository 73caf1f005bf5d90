// Seeded generators for fuzzing the gateway's Stratum V1 endpoints (TCP lines and WebSocket
// frames), and the pure half of the oracle: what a byte stream the fuzzer sent obliges the
// gateway to answer, and whether what it said back is well-formed. Sockets live in the test.
//
// Every generator takes an Rng, so a failing case is reproduced from (seed, transport, case index).

/** sfc32: tiny, fast, and the same sequence on every platform for a given seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = 1;
    // Every seed word is mixed in, so (seed, stream, index) gives independent streams.
    for (const s of seeds) {
      this.d = (this.d ^ (s >>> 0)) >>> 0;
      for (let i = 0; i < 12; i++) this.u32();
    }
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** In [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** In [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** In [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** FUZZ_SEED as decimal or 0x-hex; a fresh random seed when unset (printed, so it can be replayed). */
export function seedFrom(text: string | undefined): number {
  if (text !== undefined && text.trim() !== '') {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, got "${text}"`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// JSON values with the literals JSON.stringify cannot write (-0, 1e400, 2^64 exactly, deep nests).

/** Text spliced into the JSON verbatim: how -0, 1e400 or a 10k-deep nest reach the wire. */
export class Raw {
  constructor(readonly text: string) {}
}

export type Value = null | boolean | number | string | Raw | Value[] | { [key: string]: Value };

/** Serialises a generated value; the Raw parts go out verbatim, so the output may be invalid JSON. */
export function toJson(value: Value): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A nest `depth` deep built as text: a recursive builder or serializer would be the thing that breaks. */
export function deepNest(depth: number, kind: 'array' | 'object' | 'mixed', leaf = '1'): Raw {
  if (kind === 'array') return new Raw('['.repeat(depth) + leaf + ']'.repeat(depth));
  if (kind === 'object') return new Raw('{"a":'.repeat(depth) + leaf + '}'.repeat(depth));
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    if (i % 2) {
      open += '{"k":';
      close = '}' + close;
    } else {
      open += '[';
      close = ']' + close;
    }
  }
  return new Raw(open + leaf + close);
}

/** Numbers at and past the edges of float64, uint32 and the safe integers, as the wire writes them. */
const WEIRD_NUMBERS: readonly Raw[] = [
  '0', '-0', '1', '-1', '1.5', '4294967295', '4294967296', '9007199254740993', '18446744073709551616', '1e308',
  '-1e308', '1.7976931348623157e308', '1e309', '1e400', '-1e400', '5e-324', '1e-400', '0.000001', '1E+2', '123456789012345678901234567890',
].map((t) => new Raw(t));

/** Strings that look like numbers, hex, addresses or nothing at all. */
function weirdStrings(maxLen: number): string[] {
  return [
    '', ' ', 'NaN', 'Infinity', '-Infinity', '-0', '1e400', '0x10', '0x', 'ffffffff', 'FFFFFFFF', 'fffffffff', 'zz', 'deadbeef',
    '00000000', ' 1', '1 ', '\u0000', '\u0000deadbeef', 'dead\u0000beef', '\ud800', '\udfff', '\u2028', '\ufeff', '𝄞', 'é'.repeat(7),
    '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(Math.max(0, Math.min(maxLen, 300))),
    '0x52908400098527886E0F7030069857D2E4169EE7', '0x52908400098527886e0f7030069857d2e4169ee7.w', '0x52908400098527886E0F7030069857D2E4169Ee7',
    '0x52908400098527886E0F7030069857D2E4169EE7.' + 'w'.repeat(65), '0x52908400098527886E0F7030069857D2E4169EE7.bad name', '0xZZ',
    'version-rolling', 'minimum-difficulty', 'subscribe-extranonce', 'mining.subscribe', '\\', '"', '\r', '\n', '\r\n',
  ];
}

/** A random value of any JSON type, with a bias towards the ones validators forget. */
export function weirdValue(rng: Rng, maxBytes: number, depth = 0): Value {
  const roll = rng.int(depth > 2 ? 8 : 12);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
    case 3:
      return rng.pick(WEIRD_NUMBERS);
    case 4:
    case 5:
    case 6:
      return rng.pick(weirdStrings(maxBytes));
    case 7:
      return rng.int(2 ** 32) * (rng.chance(0.2) ? -1 : 1);
    case 8:
      return Array.from({ length: rng.range(0, 4) }, () => weirdValue(rng, maxBytes, depth + 1));
    case 9: {
      const o: { [key: string]: Value } = {};
      for (let i = rng.range(0, 3); i > 0; i--) o[rng.pick(['a', 'id', 'method', 'params', 'result', 'error', '__proto__', 'version-rolling.mask', ''])] = weirdValue(rng, maxBytes, depth + 1);
      return o;
    }
    case 10:
      return deepNest(rng.range(2, Math.min(10_000, Math.floor((maxBytes - 200) / 6))), rng.pick(['array', 'object', 'mixed'] as const), rng.pick(['1', '"x"', 'null', '[]', '{}', '-0', '1e400']));
    default:
      // Wide rather than deep.
      return new Raw('[' + Array.from({ length: rng.range(100, Math.min(8_000, Math.floor(maxBytes / 3))) }, () => '0').join(',') + ']');
  }
}

// ---------------------------------------------------------------------------------------------
// Valid messages, as TestMiner (and cpuminer, bitaxe, a browser) sends them.

export interface FuzzContext {
  /** A username the gateway accepts: `0x<address>.<worker>`. */
  username: string;
  /** A job id the gateway issued (submits need one to get past the job lookup). */
  jobId: string;
  extranonce2Size: number;
  /** The job's ntime, as 8 hex digits. */
  ntimeHex: string;
  maxMessageBytes: number;
}

export interface Request {
  id: Value;
  method: Value;
  params: Value;
  [extra: string]: Value;
}

type Template = (ctx: FuzzContext, rng: Rng) => { method: string; params: Value[] };

const hex = (rng: Rng, bytes: number) => rng.bytes(bytes).toString('hex');

/** One of each request a real miner sends, with plausible values. */
export const TEMPLATES: Readonly<Record<string, Template>> = {
  subscribe: () => ({ method: 'mining.subscribe', params: ['test-miner/1.0'] }),
  subscribeResume: (_ctx, rng) => ({ method: 'mining.subscribe', params: ['cpuminer/2.5.1', hex(rng, 8)] }),
  subscribeBare: () => ({ method: 'mining.subscribe', params: [] }),
  authorize: (ctx) => ({ method: 'mining.authorize', params: [ctx.username, 'x'] }),
  configureVersion: () => ({ method: 'mining.configure', params: [['version-rolling'], { 'version-rolling.mask': 'ffffffff', 'version-rolling.min-bit-count': 2 }] }),
  configureMinDiff: () => ({ method: 'mining.configure', params: [['minimum-difficulty'], { 'minimum-difficulty.value': 0.001 }] }),
  configureAll: () => ({
    method: 'mining.configure',
    params: [['version-rolling', 'minimum-difficulty', 'subscribe-extranonce'], { 'version-rolling.mask': '1fffe000', 'minimum-difficulty.value': 2 }],
  }),
  suggestDifficulty: (_ctx, rng) => ({ method: 'mining.suggest_difficulty', params: [rng.pick([0.001, 1, 1e-5, '0.5'])] }),
  extranonceSubscribe: () => ({ method: 'mining.extranonce.subscribe', params: [] }),
  submit: (ctx, rng) => ({ method: 'mining.submit', params: [ctx.username, ctx.jobId, hex(rng, ctx.extranonce2Size), ctx.ntimeHex, hex(rng, 4)] }),
  submitVersion: (ctx, rng) => ({ method: 'mining.submit', params: [ctx.username, ctx.jobId, hex(rng, ctx.extranonce2Size), ctx.ntimeHex, hex(rng, 4), '00002000'] }),
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATES);

/** Orders a miner should not use but a pool must survive (and answer). */
export const SEQUENCES: readonly (readonly string[])[] = [
  ['subscribe', 'authorize', 'submit'],
  ['configureVersion', 'subscribe', 'authorize', 'suggestDifficulty', 'submitVersion'],
  ['submit', 'subscribe'],
  ['authorize', 'subscribe', 'authorize'],
  ['subscribe', 'subscribe', 'authorize', 'authorize', 'submit'],
  ['subscribe', 'authorize', 'subscribe', 'configureAll', 'suggestDifficulty', 'submit'],
  ['extranonceSubscribe', 'submit', 'configureMinDiff', 'subscribeResume'],
  ['subscribe', 'authorize', 'configureMinDiff', 'configureVersion', 'submitVersion', 'submit'],
];

export function request(ctx: FuzzContext, rng: Rng, name: string, id: Value): Request {
  const t = TEMPLATES[name];
  if (!t) throw new Error(`no template ${name}`);
  const { method, params } = t(ctx, rng);
  return { id, method, params };
}

// ---------------------------------------------------------------------------------------------
// Mutations: structural (on the request) and textual (on its bytes).

const METHODS: readonly string[] = [
  'mining.Subscribe', 'MINING.SUBSCRIBE', 'mining.subscribe ', ' mining.subscribe', 'mining.subscribe\u0000', 'mining.', 'mining', '.', 'x'.repeat(64), 'x'.repeat(65),
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'mining.get_transactions', 'mining.ping', 'client.get_version', 'mining.set_difficulty', 'mining.notify', 'eth_submitLogin',
];

/** Changes the request's shape: ids, methods, params, each param, extra and missing keys. */
export function mutateRequest(req: Request, rng: Rng, maxBytes: number): Request {
  const out: Request = { ...req };
  const params = Array.isArray(out.params) ? [...out.params] : out.params;
  switch (rng.int(9)) {
    case 0:
      out.id = weirdValue(rng, maxBytes);
      break;
    case 1:
      out.method = rng.chance(0.5) ? rng.pick(METHODS) : weirdValue(rng, maxBytes);
      break;
    case 2:
      out.params = weirdValue(rng, maxBytes);
      break;
    case 3:
    case 4:
      // One param replaced: the most common way a buggy or hostile miner differs from a good one.
      if (Array.isArray(params) && params.length > 0) {
        params[rng.int(params.length)] = weirdValue(rng, maxBytes);
        out.params = params;
      } else out.params = [weirdValue(rng, maxBytes)];
      break;
    case 5:
      if (Array.isArray(params)) {
        if (rng.chance(0.5)) params.splice(rng.int(params.length + 1), 0, weirdValue(rng, maxBytes));
        else params.splice(rng.int(Math.max(1, params.length)), 1);
        out.params = params;
      }
      break;
    case 6:
      // A reply-shaped or JSON-RPC 2.0-shaped message.
      out[rng.pick(['result', 'error', 'jsonrpc', '__proto__', 'extra'])] = rng.chance(0.3) ? '2.0' : weirdValue(rng, maxBytes);
      break;
    case 7:
      delete (out as Partial<Request>)[rng.pick(['id', 'method', 'params'] as const)];
      break;
    default:
      // Options of configure, where nested values reach Number() and hex parsers.
      out.method = 'mining.configure';
      out.params = [
        [rng.pick(['version-rolling', 'minimum-difficulty', 'subscribe-extranonce', 'x'])],
        { [rng.pick(['version-rolling.mask', 'minimum-difficulty.value', 'version-rolling.min-bit-count'])]: weirdValue(rng, maxBytes) },
      ];
  }
  return out;
}

/** Bytes that trip decoders: NUL, bare CR, invalid and overlong UTF-8, surrogates, BOM, separators. */
const NASTY_BYTES: readonly number[][] = [
  [0x00], [0x0d], [0x0b], [0x0c], [0x09], [0xff], [0xfe], [0x80], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xef, 0xbb, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x80, 0xa8], [0xc2, 0xa0], [0x5c], [0x22], [0x7b], [0x5d],
];

const NUMBER_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Damages the text of a message at the byte level. */
export function mutateBytes(b: Buffer, rng: Rng): Buffer {
  const at = () => rng.int(b.length + 1);
  switch (rng.int(11)) {
    case 0:
      return b.subarray(0, at());
    case 1: {
      const out = Buffer.from(b);
      for (let n = rng.range(1, 4); n > 0 && out.length > 0; n--) out[rng.int(out.length)] = rng.u32() & 0xff;
      return out;
    }
    case 2:
    case 3: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(NASTY_BYTES)), b.subarray(i)]);
    }
    case 4: {
      const i = at();
      const j = i + rng.int(b.length - i + 1);
      return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
    }
    case 5: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), b.subarray(i + rng.range(1, 8))]);
    }
    case 6: {
      // A number literal swapped for one past an edge.
      const text = b.toString('latin1');
      const matches = [...text.matchAll(NUMBER_RE)];
      if (matches.length === 0) return b;
      const m = rng.pick(matches);
      const lit = rng.pick(['-0', '1e400', '-1e400', '18446744073709551616', '1e308', 'NaN', 'Infinity', '0x1f', '01', '1.', '.5', '+1', '1e', '--1']);
      return Buffer.from(text.slice(0, m.index) + lit + text.slice(m.index! + m[0].length), 'latin1');
    }
    case 7: {
      // Escapes inside strings: NUL, lone surrogates, and ones JSON does not have.
      const text = b.toString('latin1');
      const q = text.indexOf('"', rng.int(text.length));
      if (q === -1) return b;
      const esc = rng.pick(['\\u0000', '\\ud800', '\\udfff\\ud800', '\\x41', '\\', '\\u12', '\\/', '\\\\', '\\"']);
      return Buffer.from(text.slice(0, q + 1) + esc + text.slice(q + 1), 'latin1');
    }
    case 8:
      return Buffer.concat([Buffer.from(rng.pick(['\ufeff', ' ', '\t', '\r', '\u00a0', '\u2028', '[', '\r\r'])), b, Buffer.from(rng.pick(['', ' ', '\r', '\t', ']', '}', ',', '\u0000']))]);
    case 9:
      // Two messages with no separator, or a JSON-RPC batch (which Stratum does not have).
      return rng.chance(0.5) ? Buffer.concat([b, b]) : Buffer.concat([Buffer.from('['), b, Buffer.from(','), b, Buffer.from(']')]);
    default: {
      // A line break inside the message: over TCP that is two broken lines.
      const i = at();
      return Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(['\n', '\r\n', '\r'])), b.subarray(i)]);
    }
  }
}

/** One message's bytes (no line end): valid, mutated, random or giant. */
export function fuzzMessage(ctx: FuzzContext, rng: Rng, id: number): { bytes: Buffer; kind: string } {
  const max = ctx.maxMessageBytes;
  const roll = rng.int(100);
  const base = () => request(ctx, rng, rng.pick(TEMPLATE_NAMES), id);
  if (roll < 15) return { bytes: Buffer.from(toJson(base())), kind: 'valid' };
  if (roll < 50) {
    let req = base();
    for (let n = rng.range(1, 3); n > 0; n--) req = mutateRequest(req, rng, max);
    return { bytes: Buffer.from(toJson(req)), kind: 'mutated' };
  }
  if (roll < 72) {
    let bytes: Buffer = Buffer.from(toJson(rng.chance(0.5) ? base() : mutateRequest(base(), rng, max)));
    for (let n = rng.range(1, 3); n > 0; n--) bytes = mutateBytes(bytes, rng);
    return { bytes, kind: 'damaged' };
  }
  if (roll < 80) return { bytes: Buffer.from(toJson(weirdValue(rng, max))), kind: 'random-json' };
  if (roll < 85) return { bytes: rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : Buffer.from(randomPrintable(rng, rng.range(1, 200))), kind: 'random-bytes' };
  return giantMessage(ctx, rng, id);
}

function randomPrintable(rng: Rng, n: number): string {
  const alphabet = '{}[]":,0123456789abcdefxe.-+ \t\\/ntrufalsmiog_';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** Messages around the size limit and nests as deep as fit: where parsers and framers break. */
export function giantMessage(ctx: FuzzContext, rng: Rng, id: number): { bytes: Buffer; kind: string } {
  const max = ctx.maxMessageBytes;
  const wrap = (param: Value, method = rng.pick(['mining.subscribe', 'mining.authorize', 'mining.submit', 'mining.suggest_difficulty'])) =>
    Buffer.from(toJson({ id, method, params: [param] }));
  switch (rng.int(6)) {
    case 0: {
      // Just under, exactly at, and just over the limit (the framer counts the trimmed line).
      const shell = toJson({ id, method: 'mining.subscribe', params: [''] }).length;
      const target = max + rng.pick([-1, 0, 1, 2, -50, 100, max]);
      return { bytes: wrap('u'.repeat(Math.max(0, target - shell)), 'mining.subscribe'), kind: `long-string(${target})` };
    }
    case 1: {
      const depth = rng.pick([1_000, 5_000, Math.floor((max - 100) / 2), 10_000, 16_000]);
      return { bytes: wrap(deepNest(depth, 'array')), kind: `deep-array(${depth})` };
    }
    case 2: {
      const depth = rng.pick([1_000, 3_000, Math.floor((max - 100) / 6)]);
      return { bytes: wrap(deepNest(depth, rng.pick(['object', 'mixed'] as const))), kind: `deep-object(${depth})` };
    }
    case 3: {
      // Deep in the places a session reads values: configure options, the id, the params themselves.
      const depth = rng.pick([2_000, 5_000, Math.floor((max - 300) / 2)]);
      const nest = deepNest(depth, 'array', rng.pick(['1', '"0.5"', '0.001']));
      const where = rng.int(3);
      const req: Value =
        where === 0
          ? { id, method: 'mining.configure', params: [['minimum-difficulty'], { 'minimum-difficulty.value': nest }] }
          : where === 1
            ? { id: nest, method: 'mining.subscribe', params: [] }
            : { id, method: 'mining.authorize', params: nest };
      return { bytes: Buffer.from(toJson(req)), kind: `deep-field(${where},${depth})` };
    }
    case 4: {
      // Many extension names: the answer repeats each one.
      const names = Array.from({ length: rng.range(100, Math.floor(max / 12)) }, (_, i) => i.toString(36));
      return { bytes: Buffer.from(toJson({ id, method: 'mining.configure', params: [names, {}] })), kind: 'wide-configure' };
    }
    default: {
      // Multi-byte characters: the limit is in bytes on WebSocket, in characters on TCP.
      const ch = rng.pick(['é', '€', '𝄞']);
      const n = Math.floor(max / Buffer.byteLength(ch)) + rng.range(-20, 20);
      return { bytes: wrap(ch.repeat(Math.max(0, n)), 'mining.subscribe'), kind: `multibyte(${ch},${n})` };
    }
  }
}

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

// ---------------------------------------------------------------------------------------------
// The oracle's pure half.

/**
 * What the gateway owes one complete message: a reply (with this id) or nothing (a message shaped
 * like a response to the server). The rules are Stratum's, written here independently of the
 * gateway's parser: the id is echoed when it is a number, a string or null, and null otherwise.
 */
export function owedReply(text: string): { reply: false } | { reply: true; id: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reply: true, id: 'null' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { reply: true, id: 'null' };
  const m = value as Record<string, unknown>;
  const id = m.id;
  const validId = id === undefined || id === null || typeof id === 'number' || typeof id === 'string';
  if (!validId) return { reply: true, id: 'null' };
  if (m.method === undefined && ('result' in m || 'error' in m)) return { reply: false };
  // Echoed as JSON writes it: 1e400 parsed is Infinity, which JSON writes as null; -0 as 0.
  return { reply: true, id: JSON.stringify(id ?? null) };
}

/** The complete lines a TCP stream holds, as the gateway's framer cuts them, and the unfinished rest. */
export function tcpLines(stream: Buffer): { lines: string[]; longestRaw: number; rest: string } {
  const text = stream.toString('utf8');
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  const longestRaw = Math.max(rest.length, ...parts.map((p) => p.length));
  return { lines: parts.map((p) => p.trim()).filter((p) => p.length > 0), longestRaw, rest };
}

const NOTIFICATIONS = new Set(['mining.notify', 'mining.set_difficulty', 'client.show_message', 'client.reconnect', 'mining.set_extranonce', 'mining.set_version_mask']);

export type ServerMessage =
  | { kind: 'response'; id: string; ok: boolean; code?: number; message?: string }
  | { kind: 'notification'; method: string; params: unknown[] }
  | { kind: 'malformed'; problem: string };

/** Classifies one message from the gateway, and says what is wrong with it if anything is. */
export function classifyServerMessage(text: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', problem: `not JSON: ${text.slice(0, 200)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'malformed', problem: `not an object: ${text.slice(0, 200)}` };
  const m = value as Record<string, unknown>;
  if (typeof m.method === 'string') {
    if (m.id !== null) return { kind: 'malformed', problem: `notification with an id: ${text.slice(0, 200)}` };
    if (!NOTIFICATIONS.has(m.method)) return { kind: 'malformed', problem: `unexpected notification ${m.method}` };
    if (!Array.isArray(m.params)) return { kind: 'malformed', problem: `notification without params: ${text.slice(0, 200)}` };
    return { kind: 'notification', method: m.method, params: m.params };
  }
  const keys = Object.keys(m).sort().join(',');
  if (keys !== 'error,id,result') return { kind: 'malformed', problem: `response keys ${keys}: ${text.slice(0, 200)}` };
  if (!(m.id === null || typeof m.id === 'number' || typeof m.id === 'string')) return { kind: 'malformed', problem: `response id of type ${typeof m.id}` };
  const id = JSON.stringify(m.id);
  if (m.error === null) {
    if (m.result === null || m.result === undefined) return { kind: 'malformed', problem: `success without a result: ${text.slice(0, 200)}` };
    return { kind: 'response', id, ok: true };
  }
  const e = m.error;
  if (!Array.isArray(e) || e.length !== 3 || !Number.isInteger(e[0]) || typeof e[1] !== 'string' || e[2] !== null) {
    return { kind: 'malformed', problem: `error is not [code, message, null]: ${text.slice(0, 200)}` };
  }
  if (m.result !== null) return { kind: 'malformed', problem: `error with a result: ${text.slice(0, 200)}` };
  return { kind: 'response', id, ok: false, code: e[0] as number, message: e[1] };
}

/** Why the gateway may hang up on a client; anything else is a finding. */
export const CLOSE_REASON_RE = /message over \d+ bytes|banned|binary frames are not Stratum|too many connections|idle timeout|gateway shutting down/;

/** Frames the gateway sent on a raw WebSocket: text payloads, and the close code if one came. */
export function parseServerFrames(buf: Buffer): { texts: string[]; close?: { code: number; reason: string }; used: number } {
  const texts: string[] = [];
  let close: { code: number; reason: string } | undefined;
  let i = 0;
  let fragments: Buffer[] = [];
  while (i + 2 <= buf.length) {
    const b0 = buf[i]!;
    const b1 = buf[i + 1]!;
    let len = b1 & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > buf.length) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (b1 & 0x80) off += 4; // a server never masks, but do not choke if it did
    if (off + len > buf.length) break;
    const payload = buf.subarray(off, off + len);
    const opcode = b0 & 0x0f;
    if (opcode === 1 || opcode === 0) {
      fragments.push(payload);
      if (b0 & 0x80) {
        texts.push(Buffer.concat(fragments).toString('utf8'));
        fragments = [];
      }
    } else if (opcode === 8) {
      close = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8') };
    }
    i = off + len;
  }
  return { texts, ...(close ? { close } : {}), used: i };
}
