import { isIP } from 'node:net';

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load balancer
 * sends first on a TCP connection to say whose connection it is. Pure: bytes in, a verdict out.
 */
export type ProxyHeader =
  /** More bytes are needed to decide. */
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /**
   * `source` is the client; undefined for LOCAL (the balancer's own health check) and UNKNOWN or
   * non-TCP families, where the connection's own peer stands.
   */
  | { kind: 'header'; version: 1 | 2; bytes: number; source?: { address: string; port: number } };

/** The 12-byte signature that opens a version 2 header. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line, CRLF included (the spec's 107 bytes). */
const V1_MAX_BYTES = 107;
/** A v2 header's length field may say up to 65535; more than this is no real balancer's. */
const V2_MAX_BYTES = 16 + 4096;

export function parseProxyHeader(data: Buffer): ProxyHeader {
  if (startsWith(data, V2_SIGNATURE)) return parseV2(data);
  if (startsWith(data, V1_PREFIX)) return parseV1(data);
  if (V2_SIGNATURE.subarray(0, data.length).equals(data) || V1_PREFIX.subarray(0, data.length).equals(data)) return { kind: 'incomplete' };
  return { kind: 'invalid', reason: 'no PROXY protocol header (neither "PROXY " nor the v2 signature)' };
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.subarray(0, V1_MAX_BYTES).indexOf('\r\n');
  if (end === -1) return data.length >= V1_MAX_BYTES ? { kind: 'invalid', reason: `v1 line has no CRLF within ${V1_MAX_BYTES} bytes` } : { kind: 'incomplete' };
  const line = data.subarray(0, end).toString('latin1');
  const bytes = end + 2;
  const fields = line.split(' ');
  if (fields[1] === 'UNKNOWN') return { kind: 'header', version: 1, bytes };
  if (fields.length !== 6) return { kind: 'invalid', reason: `v1 line "${printable(line)}" does not have 6 fields` };
  const [, protocol, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const family = protocol === 'TCP4' ? 4 : protocol === 'TCP6' ? 6 : 0;
  if (family === 0) return { kind: 'invalid', reason: `v1 protocol "${printable(protocol)}" is none of TCP4, TCP6, UNKNOWN` };
  for (const address of [source, destination]) {
    if (isIP(address) !== family) return { kind: 'invalid', reason: `v1 "${printable(address)}" is not an IPv${family} address` };
  }
  for (const port of [sourcePort, destinationPort]) {
    if (!/^(0|[1-9]\d{0,4})$/.test(port) || Number(port) > 65535) return { kind: 'invalid', reason: `v1 port "${printable(port)}" is not 0..65535` };
  }
  return { kind: 'header', version: 1, bytes, source: { address: source, port: Number(sourcePort) } };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.length < 16) return { kind: 'incomplete' };
  const versionCommand = data[12]!;
  const familyProtocol = data[13]!;
  const length = data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: `v2 version ${versionCommand >> 4} is not 2` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: `v2 command ${command} is neither LOCAL (0) nor PROXY (1)` };
  if (16 + length > V2_MAX_BYTES) return { kind: 'invalid', reason: `v2 header of ${16 + length} bytes is over ${V2_MAX_BYTES}` };
  if (data.length < 16 + length) return { kind: 'incomplete' };
  const bytes = 16 + length;
  // LOCAL: the balancer's own connection (a health check); its addresses, if any, are skipped.
  if (command === 0) return { kind: 'header', version: 2, bytes };
  const body = data.subarray(16, bytes);
  switch (familyProtocol) {
    case 0x11: // TCP over IPv4
      if (length < 12) return { kind: 'invalid', reason: `v2 TCP4 addresses need 12 bytes, the header has ${length}` };
      return { kind: 'header', version: 2, bytes, source: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) } };
    case 0x21: // TCP over IPv6
      if (length < 36) return { kind: 'invalid', reason: `v2 TCP6 addresses need 36 bytes, the header has ${length}` };
      return { kind: 'header', version: 2, bytes, source: { address: ipv6Text(body.subarray(0, 16)), port: body.readUInt16BE(32) } };
    case 0x00: // UNSPEC: the receiver uses the connection's own addresses.
      return { kind: 'header', version: 2, bytes };
    default:
      return { kind: 'invalid', reason: `v2 family/protocol 0x${familyProtocol.toString(16).padStart(2, '0')} is not TCP over IPv4 or IPv6` };
  }
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
}
