// Difficulty over real TCP sessions: a retarget reaches the miner as new work, shares of the job it
// still has are credited at that job's difficulty without moving vardiff again, every job of the
// current block stays valid, and a proxy that asks for a difficulty (mining.suggest,
// mining.suggest_difficulty, d= in the password) is credited at it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hexToBytes } from '../protocol/hex.js';
import { parseNotifyParams } from '../protocol/stratum-job.js';
import { StratumCode } from '../protocol/stratum/errors.js';
import { difficultyToWork } from '../protocol/target.js';
import { ExtranonceAllocator } from '../server/stratum/extranonce.js';
import { passwordDifficulty } from '../server/stratum/session-difficulty.js';
import type { WorkSource, WorkTemplate } from '../server/work/work-source.js';
import { MEMBER, startTestGateway } from './helpers/gateway.js';
import { ManualSource } from './helpers/manual-source.js';
import { TestMiner, type RpcMessage } from './helpers/test-miner.js';
import { loadVectors } from './helpers/vectors.js';
import { waitFor } from './helpers/wait-for.js';

/** slush's documented session: its recorded share reaches difficulty 7.9, enough for a proxy at 2. */
const recorded = loadVectors().stratum_examples.find((e) => e.id === 'slush-stratum-docs-2012')!;

/** A work source that hands out the recorded job, and an allocator that hands out its extranonce1. */
function recordedGateway() {
  const job = parseNotifyParams(recorded.messages.notify.params);
  const template: WorkTemplate = { ...job, extranonceSize: recorded.extranonce1.length / 2 + recorded.extranonce2_size, cleanJobs: true };
  let listener: ((t: WorkTemplate) => void) | undefined;
  const source: WorkSource = {
    kind: 'practice',
    label: 'recorded session',
    connected: true,
    onTemplate: (l) => (listener = l),
    start: async () => listener?.(template),
    stop: async () => {},
    submit: async () => ({ accepted: true }),
  };
  const extranonce1 = hexToBytes(recorded.extranonce1, 'en1');
  const extranonceAllocator = () =>
    new (class extends ExtranonceAllocator {
      override allocate(): Uint8Array {
        return extranonce1;
      }
    })(extranonce1.length);
  return startTestGateway({}, { source, extranonceAllocator });
}

const notifies = (miner: TestMiner) => miner.messages.filter((m) => m.method === 'mining.notify');
const setDifficulties = (miner: TestMiner) => miner.messages.filter((m) => m.method === 'mining.set_difficulty').map((m) => m.params![0]);

describe('a proxy that asks for difficulty 2 is credited at 2', () => {
  /** After authorize, as ckpool's proxy (mining.suggest, answered though it does not wait) and rigs ask. */
  const askAfterAuthorize = (method: string) => async (miner: TestMiner, worker: string) => {
    await miner.request('mining.authorize', [worker, 'x']);
    const retargeted = miner.nextJob();
    assert.equal((await miner.request(method, [2])).result, true);
    await retargeted;
  };
  const ways: { name: string; login: (miner: TestMiner, worker: string) => Promise<void> }[] = [
    { name: 'mining.suggest (ckpool proxy)', login: askAfterAuthorize('mining.suggest') },
    { name: 'mining.suggest_difficulty after authorize', login: askAfterAuthorize('mining.suggest_difficulty') },
    {
      name: 'd=2 in the password',
      login: async (miner, worker) => {
        const first = miner.nextJob();
        assert.equal((await miner.request('mining.authorize', [worker, 'x,d=2'])).result, true);
        await first;
      },
    },
  ];
  for (const way of ways) {
    test(way.name, async () => {
      const gateway = await recordedGateway();
      try {
        const miner = await TestMiner.tcp(gateway.stratumPort);
        await miner.request('mining.subscribe', ['proxy/1.0']);
        const worker = `${MEMBER}.proxy`;
        await way.login(miner, worker);
        assert.equal(miner.difficulty, 2);
        const submitted = recorded.messages.submit.params as string[];
        const response = await miner.submit([worker, miner.job![0] as string, ...submitted.slice(2)]);
        assert.equal(response.result, true, JSON.stringify(response.error));
        const member = await gateway.view.ledger.member(MEMBER);
        assert.equal(member.recent[0]!.hash, recorded.expected.hash);
        assert.equal(member.recent[0]!.difficulty, 2);
        assert.equal(member.work, difficultyToWork(2));
        miner.close();
      } finally {
        await gateway.close();
      }
    });
  }
});

describe('retargets and a miner that keeps its job', () => {
  test('a retarget comes with a new header; shares of the job the miner kept are credited at its difficulty and do not move vardiff again', async () => {
    const gateway = await startTestGateway({ startDifficulty: 1e-5, targetShareIntervalMs: 60_000 });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      const worker = `${MEMBER}.minerd`;
      await miner.login(worker);
      const firstJob = miner.job!;
      // Shares far faster than one a minute: vardiff's fast ramp retargets after 9 of them.
      let extranonce2 = 0;
      const mine = async (job: unknown[], difficulty: number) => {
        const share = await new TestMinerShare(miner, job, difficulty, worker, ++extranonce2).find();
        return miner.submit(share);
      };
      while (setDifficulties(miner).length < 2) {
        assert.ok(extranonce2 < 20, 'vardiff retargets a miner 1000 times too fast within 20 shares');
        assert.equal((await mine(firstJob, 1e-5)).result, true);
      }
      const retargeted = await waitFor('the retarget job', () => (notifies(miner).length >= 2 ? notifies(miner)[1] : undefined));
      const raised = setDifficulties(miner)[1] as number;
      assert.ok(raised > 1e-5, `raised to ${raised}`);
      const [, ...firstHeader] = firstJob.slice(0, 8);
      const retargetHeader = retargeted.params!.slice(1, 8);
      assert.notDeepEqual(retargetHeader, firstHeader, 'the job that carries the new difficulty has a different header');
      assert.ok(parseInt(retargetHeader[6] as string, 16) > parseInt(firstHeader[6] as string, 16), 'a later ntime');
      // minerd keeps the old job (same difficulty as it received it) for a while: every share is
      // credited at 1e-5, and vardiff, which counts them at 1e-5, does not raise again.
      const before = (await gateway.view.ledger.member(MEMBER)).work;
      for (let i = 0; i < 12; i++) assert.equal((await mine(firstJob, 1e-5)).result, true);
      const member = await gateway.view.ledger.member(MEMBER);
      assert.ok(Math.abs(member.work - before - 12 * difficultyToWork(1e-5)) < 1, 'the kept job is credited at its own difficulty');
      assert.equal(setDifficulties(miner).length, 2, `no further retarget from old-job shares: ${JSON.stringify(setDifficulties(miner))}`);
      // Then it switches to the new header, at the new difficulty.
      assert.equal((await mine(retargeted.params!, raised)).result, true);
      miner.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('stale policy', () => {
  test('every job of the current block is accepted, however many newer ones came; a share of the previous block is stale (21)', async () => {
    const source = new ManualSource();
    const gateway = await startTestGateway({}, { source });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      const worker = `${MEMBER}.stale`;
      await miner.login(worker);
      const oldest = await miner.findShare({ worker, extranonce2: '00000001' });
      for (let i = 0; i < 3; i++) {
        const next = miner.nextJob();
        source.emit(false);
        await next;
      }
      const older = await miner.findShare({ worker, extranonce2: '00000002' });
      const next = miner.nextJob();
      source.emit(false);
      await next;
      // Past the 10 s the gateway used to allow (minerd keeps a job that is not clean up to 60 s).
      await new Promise((resolve) => setTimeout(resolve, 10_500));
      assert.equal((await miner.submit(oldest.params)).result, true, 'a job superseded four times, more than 10 s ago');
      assert.equal((await miner.submit(older.params)).result, true, 'the previous job');
      const lastOfBlock = await miner.findShare({ worker, extranonce2: '00000003' });
      const block = miner.nextJob();
      source.emit(true);
      assert.equal((await block).params![8], true);
      const stale = await miner.submit(lastOfBlock.params);
      assert.equal(stale.error?.[0], StratumCode.JOB_NOT_FOUND, 'work on the previous block');
      miner.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('difficulty requests within limits', () => {
  test('the d= password convention', () => {
    assert.equal(passwordDifficulty('x,d=1024'), 1024);
    assert.equal(passwordDifficulty('d=0.5'), 0.5);
    assert.equal(passwordDifficulty('x d=2e-3,other'), 0.002);
    for (const password of ['x', 'x,d=', 'x,d=abc', 'x,d=-1', 'x,d=0', 'pd=5', 'x,d=5x', undefined, 42]) assert.equal(passwordDifficulty(password), undefined, String(password));
  });

  test('a request sets a floor vardiff keeps; a repeated one mints no job; a second change within 30 s is refused and counted', async () => {
    const gateway = await startTestGateway({ startDifficulty: 1e-5, minDifficulty: 1e-7, maxDifficulty: 1e-3 });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.floor`);
      const raise = miner.nextJob();
      assert.equal((await miner.request('mining.suggest_difficulty', [2e-5])).result, true);
      await raise;
      assert.equal(miner.difficulty, 2e-5);
      const jobs = notifies(miner).length;
      assert.equal((await miner.request('mining.suggest', [2e-5])).result, true, 'the same request again');
      const refused: RpcMessage = await miner.request('mining.suggest_difficulty', [5e-5]);
      assert.equal(refused.error?.[0], StratumCode.OTHER);
      assert.match(refused.error![1], /once every 30 s/);
      // Beyond the configured range a request is clamped to it.
      assert.equal(notifies(miner).length, jobs, 'no job for a request that changed nothing');
      assert.equal(miner.difficulty, 2e-5);
      miner.close();

      const clamped = await TestMiner.tcp(gateway.stratumPort);
      await clamped.request('mining.subscribe', []);
      assert.equal((await clamped.request('mining.suggest_difficulty', [1e-4])).result, true);
      const first = clamped.nextJob();
      await clamped.request('mining.authorize', [`${MEMBER}.clamped`, 'x,d=1024']);
      await first;
      assert.equal(clamped.difficulty, 1e-3, 'd=1024 within a range that ends at 1e-3');
      assert.deepEqual(setDifficulties(clamped), [1e-3], 'requests before authorize send nothing: the first set_difficulty carries them');
      clamped.close();
    } finally {
      await gateway.close();
    }
  });
});

/** A share of `job` at `difficulty` (the job as the miner kept it), with its own extranonce2. */
class TestMinerShare {
  constructor(
    private readonly miner: TestMiner,
    private readonly job: unknown[],
    private readonly difficulty: number,
    private readonly worker: string,
    private readonly extranonce2: number,
  ) {}
  async find(): Promise<string[]> {
    const saved = this.miner.job;
    this.miner.job = this.job;
    try {
      const en2 = this.extranonce2.toString(16).padStart(this.miner.extranonce2Size * 2, '0');
      return (await this.miner.findShare({ worker: this.worker, difficulty: this.difficulty, extranonce2: en2 })).params;
    } finally {
      this.miner.job = saved;
    }
  }
}
