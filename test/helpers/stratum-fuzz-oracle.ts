// The pure half of the fuzzer's oracle: what a byte stream the fuzzer sent obliges the gateway to
// answer, and whether what it said back is well-formed. Sockets live in the test.

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
  // A refused mining.submit answers false beside the error (what ckpool's proxy needs), the rest null.
  if (m.result !== null && m.result !== false) return { kind: 'malformed', problem: `error with a result: ${text.slice(0, 200)}` };
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
