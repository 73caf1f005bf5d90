// Seeded generators of Stratum V1 messages for fuzzing the gateway: JSON values JSON.stringify
// cannot write, valid requests as real miners send them, and structural and textual mutations.
import type { Rng } from './fuzz-rng.js';

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
  // Issue 13's attacks: alternating suggestions (a job per change) and asking for the floor between shares.
  suggestHigh: () => ({ method: 'mining.suggest_difficulty', params: [2e-5] }),
  suggestLow: () => ({ method: 'mining.suggest_difficulty', params: [1e-5] }),
  suggestFloor: () => ({ method: 'mining.suggest_difficulty', params: [1e-12] }),
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
  ['subscribe', 'authorize', ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'suggestHigh' : 'suggestLow'))],
  ['subscribe', 'authorize', 'suggestFloor', ...Array.from({ length: 3 }, () => ['submit', 'submit', 'submit', 'submit', 'submit', 'submit', 'submit', 'suggestFloor']).flat()],
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
