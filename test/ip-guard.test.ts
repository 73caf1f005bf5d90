// The ban rules without sockets: which offences are strikes (strike-counter.ts), and when
// connection bans become an address ban, exempt ranges included (ip-guard.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpGuard } from '../server/stratum/ip-guard.js';
import { StrikeCounter } from '../server/stratum/strike-counter.js';

describe('strike counter', () => {
  const limits = { maxStrikesPerWindow: 5, windowMs: 60_000 };

  test('abuse is a strike every time: the fifth bans, naming what it mostly was', () => {
    const counter = new StrikeCounter(limits);
    assert.equal(counter.record('unauthorized', 0), undefined);
    for (let i = 0; i < 3; i++) assert.equal(counter.record('malformed', 1), undefined);
    assert.equal(counter.record('invalid share', 2), 'malformed');
  });

  test('honest rejects are free up to the allowance; only each one past it is a strike', () => {
    const counter = new StrikeCounter(limits);
    for (let i = 0; i < 9; i++) assert.equal(counter.record('honest reject', i), undefined, `reject ${i + 1}`);
    assert.equal(counter.record('honest reject', 10), 'rejected shares');
  });

  test('a new window starts from nothing', () => {
    const counter = new StrikeCounter(limits);
    for (let i = 0; i < 4; i++) counter.record('flood', 0);
    assert.equal(counter.hasStruck(60_000), true);
    assert.equal(counter.hasStruck(60_001), false);
    for (let i = 0; i < 4; i++) assert.equal(counter.record('flood', 60_001), undefined);
    assert.equal(counter.record('flood', 60_002), 'flood');
  });
});

describe('ip guard', () => {
  test('an address is banned when enough of its connections were banned within the ban length, and the ban lapses', () => {
    let nowMs = 0;
    const guard = new IpGuard({ maxConnectionsPerIp: 10, connectionBansPerAddressBan: 3, banMs: 1_000 }, () => nowMs);
    assert.equal(guard.connectionBanned('192.0.2.1'), false);
    nowMs = 1_001; // the first one is too old to count
    assert.equal(guard.connectionBanned('192.0.2.1'), false);
    assert.equal(guard.connectionBanned('192.0.2.1'), false);
    assert.equal(guard.admit('192.0.2.1'), undefined);
    assert.equal(guard.connectionBanned('192.0.2.1'), true);
    assert.match(guard.admit('192.0.2.1') ?? '', /^temporarily banned for 1 s/);
    assert.equal(guard.admit('192.0.2.2'), undefined, 'another address');
    nowMs = 2_002;
    guard.sweep();
    assert.equal(guard.isBanned('192.0.2.1'), false);
    assert.equal(guard.admit('192.0.2.1'), undefined);
  });

  test('exempt ranges (IPv4 and IPv6) are neither capped nor address-banned; other addresses are', () => {
    const guard = new IpGuard({ maxConnectionsPerIp: 1, connectionBansPerAddressBan: 1, banMs: 60_000, exempt: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'] });
    for (const ip of ['203.0.113.9', '2001:db8::5', '198.51.100.7']) {
      for (let i = 0; i < 3; i++) assert.equal(guard.admit(ip), undefined, `${ip} connection ${i}`);
      assert.equal(guard.connectionBanned(ip), false, ip);
      assert.equal(guard.admit(ip), undefined, `${ip} after a connection ban`);
      assert.equal(guard.isExempt(ip), true);
    }
    for (const ip of ['203.0.114.1', '2001:db9::5', '198.51.100.8']) {
      assert.equal(guard.isExempt(ip), false, ip);
      assert.equal(guard.admit(ip), undefined);
      assert.match(guard.admit(ip) ?? '', /too many connections/, ip);
      assert.equal(guard.connectionBanned(ip), true, ip);
    }
  });
});
