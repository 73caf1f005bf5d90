// Extranonce space on a real relaying gateway: its upstream (a real gateway in the test) gives it
// a 4-byte extranonce2, which the relay splits so that one instance serves 65,536 sessions with
// a 1-byte miner extranonce2; shares built on that split are valid here and upstream; churn from
// one address cannot hoard the space; a full pool refuses clearly and counts it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StratumCode } from '../protocol/stratum/errors.js';
import type { Gateway } from '../server/gateway.js';
import { ExtranonceAllocator, extranonceLayout } from '../server/stratum/extranonce.js';
import { createPracticeSource } from '../server/work/practice-source.js';
import { createUpstreamSource } from '../server/work/upstream-source.js';
import { MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const PINNED = { startDifficulty: 1e-6, minDifficulty: 1e-6, maxDifficulty: 1e-6 } as const;

async function metric(gateway: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function subscribe(port: number, address?: string): Promise<{ miner: TestMiner; result?: [unknown, string, number]; error?: unknown }> {
  const miner = await TestMiner.tcp(port, address);
  const reply = await miner.request('mining.subscribe', ['churn/1.0']);
  return { miner, ...(reply.error ? { error: reply.error } : { result: reply.result as [unknown, string, number] }) };
}

describe('a relay whose upstream gives a 4-byte extranonce2', () => {
  let upstream: Gateway;
  let relay: Gateway;

  before(async () => {
    // Every share the relay's miners find is due upstream too: the upstream checks the coinbase.
    upstream = await startTestGateway(PINNED);
    const source = createUpstreamSource({ url: `stratum+tcp://${MEMBER}.relay:x@127.0.0.1:${upstream.stratumPort}`, versionRolling: true, requestTimeoutMs: 2000 });
    relay = await startTestGateway({ ...PINNED, maxConnectionsPerIp: 1000, instanceId: 5 }, { source });
    await waitFor('the relay has work', async () => ((await metric(relay, 'dao_gateway_extranonce_capacity')) > 0 ? true : undefined));
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  test('300 live sessions get distinct 3-byte extranonce1s of instance 5 and a 1-byte extranonce2; capacity 65,536', async () => {
    assert.equal(await metric(relay, 'dao_gateway_extranonce_capacity'), 65_536, 'room for ≥ 20,000 sessions');
    const miners: TestMiner[] = [];
    const prefixes = new Set<string>();
    try {
      for (let i = 0; i < 300; i++) {
        const { miner, result, error } = await subscribe(relay.stratumPort);
        miners.push(miner);
        assert.equal(error, undefined, `session ${i} subscribes`);
        assert.match(result![1], /^05[0-9a-f]{4}$/);
        assert.equal(result![2], 1);
        prefixes.add(result![1]);
      }
      assert.equal(prefixes.size, 300);
      assert.equal(await metric(relay, 'dao_gateway_extranonce_in_use'), 300);
    } finally {
      for (const m of miners) m.close();
    }
  });

  test('a share on a 1-byte extranonce2 is credited by the relay and accepted upstream', async () => {
    const miner = await TestMiner.tcp(relay.stratumPort, '127.0.0.3');
    try {
      await miner.login(`${MEMBER}.small-en2`);
      assert.equal(miner.extranonce2Size, 1);
      const before = await metric(relay, 'dao_gateway_upstream_shares_total{accepted="true"}');
      for (const en2 of ['00', 'a7', 'ff']) {
        const share = await miner.findShare({ worker: `${MEMBER}.small-en2`, extranonce2: en2 });
        const reply = await miner.submit(share.params);
        assert.equal(reply.result, true, `extranonce2 ${en2}: ${JSON.stringify(reply.error)}`);
      }
      await waitFor('the upstream accepted the three shares', async () =>
        (await metric(relay, 'dao_gateway_upstream_shares_total{accepted="true"}')) >= (Number.isNaN(before) ? 0 : before) + 3 ? true : undefined,
      );
      assert.equal(await metric(relay, 'dao_gateway_upstream_shares_total{accepted="false"}') || 0, 0);
    } finally {
      miner.close();
    }
  });

  test('300 subscribe/close cycles from one address hold at most 8 prefixes and leave room for another address', async () => {
    for (let i = 0; i < 300; i++) {
      const { miner, error } = await subscribe(relay.stratumPort, '127.0.0.4');
      assert.equal(error, undefined, `cycle ${i} subscribes`);
      miner.close();
      await miner.waitClosed().catch(() => {});
    }
    await waitFor('the closes are seen', async () => ((await metric(relay, 'dao_gateway_connections')) === 0 ? true : undefined));
    // 8 from this address, 8 of the first test's 300 (127.0.0.1), 1 from the share test.
    await waitFor('the holds are settled', async () => ((await metric(relay, 'dao_gateway_extranonce_held')) === 17 ? true : undefined));
    assert.equal(await metric(relay, 'dao_gateway_extranonce_in_use'), 17, 'nothing else is taken');
    const { miner, error, result } = await subscribe(relay.stratumPort, '127.0.0.5');
    assert.equal(error, undefined);
    assert.equal(result![2], 1);
    miner.close();
  });
});

describe('a full pool', () => {
  test('refuses a subscribe with "pool full" (not "internal error"), counts it, and gives a held prefix to a new miner', async () => {
    // A partition of one prefix: the second live session has nowhere to go.
    const gateway = await startTestGateway({}, { extranonceAllocator: () => new ExtranonceAllocator(1, 7) });
    try {
      const first = await subscribe(gateway.stratumPort);
      assert.equal(first.result![1], '07');
      const refused = await subscribe(gateway.stratumPort, '127.0.0.2');
      assert.deepEqual(refused.error, [StratumCode.OTHER, 'pool full: no extranonce space, try again later', null]);
      assert.equal(await metric(gateway, 'dao_gateway_extranonce_refusals_total'), 1);
      // The first miner leaves: its held prefix yields to the waiting one rather than refuse it.
      first.miner.close();
      await waitFor('the close is seen', async () => ((await metric(gateway, 'dao_gateway_extranonce_held')) === 1 ? true : undefined));
      const again = await refused.miner.request('mining.subscribe', ['churn/1.0']);
      assert.equal(again.error ?? null, null);
      assert.equal((again.result as unknown[])[1], '07');
      await refused.miner.login(`${MEMBER_2}.late`);
      const share = await refused.miner.findShare({ worker: `${MEMBER_2}.late` });
      assert.equal((await refused.miner.submit(share.params)).result, true);
      refused.miner.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('every layout assembles the coinbase the miner hashed', () => {
  for (const slot of [2, 3, 4, 5, 6, 8]) {
    test(`a ${slot}-byte slot: extranonce1 and extranonce2 widths as the layout says, shares on several extranonce2s accepted`, async () => {
      const layout = extranonceLayout(slot);
      const gateway = await startTestGateway({ instanceId: 0xc4 }, { source: createPracticeSource({ extranonceSize: slot, networkDifficulty: 1e9 }) });
      try {
        const miner = await TestMiner.tcp(gateway.stratumPort);
        await miner.login(`${MEMBER}.layout${slot}`);
        assert.equal(miner.extranonce1.length, 2 * layout.prefixSize);
        assert.ok(miner.extranonce1.startsWith('c4'), miner.extranonce1);
        assert.equal(miner.extranonce2Size, layout.extranonce2Size);
        // The test miner builds coinb1 || extranonce1 || extranonce2 || coinb2 on its own; the gateway must agree.
        for (const en2 of ['00', '5a', 'ff'].map((b) => b.repeat(layout.extranonce2Size))) {
          const share = await miner.findShare({ worker: `${MEMBER}.layout${slot}`, extranonce2: en2 });
          const reply = await miner.submit(share.params);
          assert.equal(reply.result, true, `extranonce2 ${en2}: ${JSON.stringify(reply.error)}`);
        }
        // A wrong-width extranonce2 is refused, not hashed.
        const wrong = await miner.findShare({ worker: `${MEMBER}.layout${slot}`, extranonce2: '00'.repeat(layout.extranonce2Size + 1) });
        assert.match(JSON.stringify((await miner.submit(wrong.params)).error), new RegExp(`extranonce2 must be ${layout.extranonce2Size} bytes`));
        miner.close();
      } finally {
        await gateway.close();
      }
    });
  }
});

test('--miner-extranonce2-bytes 2 on a 4-byte slot: the miner gets 2 bytes (what cgminer accepts) and its shares are accepted', async () => {
  const gateway = await startTestGateway({ minerExtranonce2Bytes: 2 }, { source: createPracticeSource({ extranonceSize: 4, networkDifficulty: 1e9 }) });
  try {
    const miner = await TestMiner.tcp(gateway.stratumPort);
    await miner.login(`${MEMBER}.cgminer`);
    assert.equal(miner.extranonce2Size, 2);
    assert.equal(miner.extranonce1.length, 4);
    const share = await miner.findShare({ worker: `${MEMBER}.cgminer`, extranonce2: 'beef' });
    assert.equal((await miner.submit(share.params)).result, true);
    miner.close();
  } finally {
    await gateway.close();
  }
});
