// The real Stratum sessions of test/vectors replayed against the gateway: it issues the
// recorded job with the recorded extranonce1, and judges the recorded submissions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hexToBytes } from '../protocol/hex.js';
import { parseNotifyParams } from '../protocol/stratum-job.js';
import { ExtranonceAllocator } from '../server/stratum/extranonce.js';
import { StratumCode } from '../protocol/stratum/errors.js';
import type { WorkSource, WorkTemplate } from '../server/work/work-source.js';
import { MEMBER, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { loadVectors, type StratumExample } from './helpers/vectors.js';

const vectors = loadVectors();

/** A work source that hands out exactly one recorded job. */
function recordedSource(example: StratumExample): WorkSource {
  const job = parseNotifyParams(example.messages.notify.params);
  const template: WorkTemplate = { ...job, extranonceSize: example.extranonce1.length / 2 + example.extranonce2_size, cleanJobs: true };
  let listener: ((t: WorkTemplate) => void) | undefined;
  return {
    kind: 'practice',
    label: `recorded session ${example.id}`,
    connected: true,
    onTemplate: (l) => (listener = l),
    start: async () => listener?.(template),
    stop: async () => {},
    submit: async () => ({ accepted: true }),
  };
}

/** Hands every session the recorded extranonce1. */
class RecordedExtranonce extends ExtranonceAllocator {
  constructor(private readonly recorded: Uint8Array) {
    super(recorded.length);
  }
  override allocate(): Uint8Array {
    return this.recorded;
  }
}

async function replay(example: StratumExample) {
  const gateway = await startTestGateway(
    { maxDifficulty: 1e6, ntimeRollSeconds: 7000 },
    { source: recordedSource(example), extranonceAllocator: () => new RecordedExtranonce(hexToBytes(example.extranonce1, 'en1')) },
  );
  const miner = await TestMiner.tcp(gateway.stratumPort);
  await miner.login(`${MEMBER}.replay`, { versionRolling: example.version_mask !== undefined, suggestDifficulty: example.pool_difficulty });
  assert.equal(miner.extranonce1, example.extranonce1);
  assert.equal(miner.extranonce2Size, example.extranonce2_size);
  assert.equal(miner.difficulty, example.pool_difficulty);
  if (example.version_mask) assert.equal(miner.versionMask, parseInt(example.version_mask, 16));
  // The recorded job as the gateway sent it, apart from the job id it chose.
  assert.deepEqual(miner.job!.slice(1, 8), example.messages.notify.params.slice(1, 8));
  const submitted = example.messages.submit.params as string[];
  const asRecorded = (changes: Partial<Record<number, string | undefined>> = {}) => {
    const params = [`${MEMBER}.replay`, miner.job![0] as string, ...submitted.slice(2)];
    for (const [i, v] of Object.entries(changes)) params[Number(i)] = v as string;
    return params.filter((p) => p !== undefined);
  };
  return { gateway, miner, asRecorded };
}

describe('recorded Stratum sessions through the gateway', () => {
  for (const example of vectors.stratum_examples) {
    test(`${example.id}: the recorded share is accepted at the recorded difficulty`, async () => {
      const { gateway, miner, asRecorded } = await replay(example);
      try {
        const response = await miner.submit(asRecorded());
        assert.deepEqual(response.error, null);
        assert.equal(response.result, true);
        const member = await gateway.view.ledger.member(MEMBER);
        assert.equal(member.recent[0]!.hash, example.expected.hash);
        assert.equal(member.recent[0]!.difficulty, example.pool_difficulty);
      } finally {
        miner.close();
        await gateway.close();
      }
    });
  }

  test('the classic miner-side mistakes are refused with the right codes', async () => {
    const example = vectors.stratum_examples.find((e) => e.id === 'public-pool-testnet3-bitaxe-version-rolling')!;
    const { gateway, miner, asRecorded } = await replay(example);
    try {
      const submitted = example.messages.submit.params as string[];
      const reversed = (hex: string) => hex.match(/../g)!.reverse().join('');
      const byMistake: Record<string, { params: string[]; code: number }> = {
        // Version bits left out: the job's version, a different hash, far below difficulty 512.
        'pp-no-version-rolling': { params: asRecorded({ 5: undefined }), code: StratumCode.LOW_DIFFICULTY },
        'pp-nonce-byteswapped': { params: asRecorded({ 4: reversed(submitted[4]!) }), code: StratumCode.LOW_DIFFICULTY },
        // A byte-swapped ntime lands outside the job's ntime window.
        'pp-ntime-byteswapped': { params: asRecorded({ 3: reversed(submitted[3]!) }), code: StratumCode.OTHER },
      };
      for (const negative of vectors.negative_examples) {
        const attempt = byMistake[negative.id];
        if (!attempt) continue; // the other mistakes are a verifier's, covered in protocol-vectors.test.ts
        const response = await miner.submit(attempt.params);
        // A refused submit answers false beside the error (issue 18), as ckpool does.
        assert.equal(response.result, false, negative.id);
        assert.equal(response.error?.[0], attempt.code, `${negative.id}: ${response.error?.[1]}`);
      }
      assert.equal(Object.keys(byMistake).filter((id) => vectors.negative_examples.some((n) => n.id === id)).length, 3);
      assert.equal((await gateway.view.ledger.member(MEMBER)).shares, 0);
    } finally {
      miner.close();
      await gateway.close();
    }
  });
});
