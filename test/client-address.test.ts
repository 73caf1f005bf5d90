// Who the client is (issue 13 items 3 and 4): clientKey (IPv6 per /64, IPv4-mapped as IPv4),
// X-Forwarded-For believed only from a trusted proxy, and the PROXY protocol v1/v2 parser against
// the examples of HAProxy's proxy-protocol.txt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cidrBlockList } from '../server/cidr.js';
import { clientKey } from '../server/client-key.js';
import { forwardedClient } from '../server/forwarded-for.js';
import { IpGuard } from '../server/stratum/ip-guard.js';
import { parseProxyHeader, V2_SIGNATURE } from '../server/stratum/proxy-protocol.js';

describe('clientKey', () => {
  test('IPv4 is itself; IPv4-mapped IPv6 (dotted or hex) is the IPv4 address', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::FFFF:127.0.0.1'), '127.0.0.1');
    assert.equal(clientKey('::ffff:cb00:7107'), '203.0.113.7');
  });
  test('IPv6 is its /64, however it is written', () => {
    assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
  });
  test('what is no address keys as itself', () => {
    assert.equal(clientKey('unknown'), 'unknown');
  });
  test('the Stratum guard caps and bans a /64 as one address', () => {
    const guard = new IpGuard({ maxConnectionsPerIp: 2, connectionBansPerAddressBan: 1, banMs: 60_000 });
    assert.equal(guard.admit('2001:db8:1:2::1'), undefined);
    assert.equal(guard.admit('2001:db8:1:2::ffff'), undefined);
    assert.match(guard.admit('2001:db8:1:2:aaaa::1') ?? '', /too many connections/);
    assert.equal(guard.admit('2001:db8:1:3::1'), undefined, 'the next /64 is someone else');
    assert.equal(guard.connectionBanned('2001:db8:1:2::7'), true);
    assert.equal(guard.isBanned('2001:db8:1:2:dead::beef'), true);
    assert.equal(guard.isBanned('2001:db8:1:3::1'), false);
  });
});

describe('X-Forwarded-For', () => {
  const trusted = cidrBlockList(['10.0.0.0/8', '2001:db8:ffff::/48']);
  test('ignored from a peer that is not a trusted proxy', () => {
    assert.equal(forwardedClient('198.51.100.9', '203.0.113.7', trusted), '198.51.100.9');
    assert.equal(forwardedClient('::ffff:198.51.100.9', '203.0.113.7', trusted), '198.51.100.9');
  });
  test('from a trusted proxy: the rightmost untrusted hop, whatever the client wrote to its left', () => {
    assert.equal(forwardedClient('10.0.0.1', '203.0.113.7', trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', '1.2.3.4, 203.0.113.7', trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', '1.2.3.4, 203.0.113.7, 10.0.0.2', trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', ['1.2.3.4', '203.0.113.7, 10.9.9.9'], trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', '2001:db8:1:2::5', trusted), '2001:db8:1:2::5');
    assert.equal(forwardedClient('10.0.0.1', '[2001:db8:1:2::5]:4711', trusted), '2001:db8:1:2::5');
    assert.equal(forwardedClient('10.0.0.1', '203.0.113.7:4711', trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', '::ffff:203.0.113.7', trusted), '203.0.113.7');
  });
  test('a hop that is no address stops the walk at the last trusted hop; all trusted: the leftmost', () => {
    assert.equal(forwardedClient('10.0.0.1', 'evil, 10.0.0.2', trusted), '10.0.0.2');
    assert.equal(forwardedClient('10.0.0.1', 'not-an-ip', trusted), '10.0.0.1');
    assert.equal(forwardedClient('10.0.0.1', '', trusted), '10.0.0.1');
    assert.equal(forwardedClient('10.0.0.1', '10.0.0.3, 10.0.0.2', trusted), '10.0.0.3');
    assert.equal(forwardedClient('10.0.0.1', undefined, trusted), '10.0.0.1');
  });
});

/** A v2 header as proxy-protocol.txt section 2.2 lays it out. */
function v2(versionCommand: number, familyProtocol: number, body: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([versionCommand, familyProtocol]), length, body]);
}
const ipv4Body = (src: number[], dst: number[], srcPort: number, dstPort: number) => {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(dstPort, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports]);
};

describe('PROXY protocol', () => {
  test('v1: the examples of proxy-protocol.txt section 2.1', () => {
    const spec = Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n');
    assert.deepEqual(parseProxyHeader(spec), { kind: 'header', version: 1, bytes: 47, source: { address: '192.168.0.1', port: 56324 } });
    const worst4 = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
    assert.deepEqual(parseProxyHeader(Buffer.from(worst4)), { kind: 'header', version: 1, bytes: 56, source: { address: '255.255.255.255', port: 65535 } });
    const f = 'ffff:f...f:ffff'.replace('f...f', 'ffff:ffff:ffff:ffff:ffff:ffff');
    const worst6 = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
    assert.deepEqual(parseProxyHeader(Buffer.from(worst6)), { kind: 'header', version: 1, bytes: 104, source: { address: f, port: 65535 } });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', version: 1, bytes: 15 });
    const unknownWorst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
    assert.equal(unknownWorst.length, 107);
    assert.deepEqual(parseProxyHeader(Buffer.from(unknownWorst)), { kind: 'header', version: 1, bytes: 107 });
  });
  test('v1: incomplete until the CRLF, malformed refused with why', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROX')), { kind: 'incomplete' });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 192.168.0.1 ')), { kind: 'incomplete' });
    const bad = (text: string, reason: RegExp) => {
      const result = parseProxyHeader(Buffer.from(text));
      assert.equal(result.kind, 'invalid', text);
      assert.match((result as { reason: string }).reason, reason);
    };
    bad('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /TCP5.*none of TCP4, TCP6, UNKNOWN/);
    bad('PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', /not an IPv4 address/);
    bad('PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /not an IPv4 address/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /port "65536"/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /port "01"/);
    bad('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /6 fields/);
    bad('PROXY ' + 'x'.repeat(120), /no CRLF within 107 bytes/);
    bad('{"id":1,"method":"mining.subscribe"}\n', /no PROXY protocol header/);
  });
  test('v2: PROXY over TCP4 and TCP6, with TLVs after the addresses and data after the header', () => {
    const tcp4 = v2(0x21, 0x11, ipv4Body([192, 168, 0, 1], [192, 168, 0, 11], 56324, 443));
    assert.equal(tcp4.length, 28);
    assert.deepEqual(parseProxyHeader(Buffer.concat([tcp4, Buffer.from('{"id":1}\n')])), { kind: 'header', version: 2, bytes: 28, source: { address: '192.168.0.1', port: 56324 } });
    const tlv = Buffer.from([0x04, 0x00, 0x00]); // PP2_TYPE_NOOP, empty
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x11, Buffer.concat([ipv4Body([203, 0, 113, 7], [10, 0, 0, 1], 4711, 3333), tlv]))), {
      kind: 'header',
      version: 2,
      bytes: 31,
      source: { address: '203.0.113.7', port: 4711 },
    });
    const src6 = Buffer.from('20010db8000100020000000000000005', 'hex');
    const dst6 = Buffer.from('20010db8ffff00000000000000000001', 'hex');
    const ports = Buffer.from([0x12, 0x67, 0x0d, 0x05]);
    const tcp6 = v2(0x21, 0x21, Buffer.concat([src6, dst6, ports]));
    assert.deepEqual(parseProxyHeader(tcp6), { kind: 'header', version: 2, bytes: 52, source: { address: '2001:db8:1:2:0:0:0:5', port: 0x1267 } });
    assert.equal(clientKey('2001:db8:1:2:0:0:0:5'), '2001:db8:1:2::/64');
  });
  test('v2: LOCAL and UNSPEC leave the connection its own address', () => {
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { kind: 'header', version: 2, bytes: 16 });
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), { kind: 'header', version: 2, bytes: 28 });
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), { kind: 'header', version: 2, bytes: 16 });
  });
  test('v2: incomplete while bytes are missing; malformed refused with why', () => {
    const tcp4 = v2(0x21, 0x11, ipv4Body([192, 168, 0, 1], [192, 168, 0, 11], 56324, 443));
    for (const cut of [1, 5, 12, 15, 16, 27]) assert.deepEqual(parseProxyHeader(tcp4.subarray(0, cut)), { kind: 'incomplete' }, `cut at ${cut}`);
    const reason = (header: Buffer) => (parseProxyHeader(header) as { reason?: string }).reason ?? '';
    assert.match(reason(v2(0x11, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), /version 1 is not 2/);
    assert.match(reason(v2(0x22, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), /command 2 is neither LOCAL/);
    assert.match(reason(v2(0x21, 0x11, Buffer.alloc(8))), /TCP4 addresses need 12 bytes, the header has 8/);
    assert.match(reason(v2(0x21, 0x21, Buffer.alloc(12))), /TCP6 addresses need 36 bytes/);
    assert.match(reason(v2(0x21, 0x12, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), /0x12 is not TCP/);
    assert.match(reason(v2(0x21, 0x31, Buffer.alloc(216))), /0x31 is not TCP/);
    const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    assert.match(reason(huge), /over 4112/);
    assert.match(reason(Buffer.concat([V2_SIGNATURE.subarray(0, 11), Buffer.from([0x00])])), /no PROXY protocol header/);
  });
});
