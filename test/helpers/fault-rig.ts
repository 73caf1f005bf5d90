import { TestMiner, type FoundShare } from './test-miner.js';

/** One difficulty for every miner of the fault tests: shares are quick to find and all alike. */
export const PINNED = { startDifficulty: 1e-6, minDifficulty: 1e-6, maxDifficulty: 1e-6 } as const;

/** A logged-in miner that numbers its extranonce2s, so every share it finds is new work. */
export class Rig {
  private next = 0;
  private constructor(
    readonly miner: TestMiner,
    readonly worker: string,
  ) {}

  static async open(stratumPort: number, worker: string): Promise<Rig> {
    const miner = await TestMiner.tcp(stratumPort);
    await miner.login(worker);
    return new Rig(miner, worker);
  }

  find(): Promise<FoundShare> {
    return this.miner.findShare({ worker: this.worker, extranonce2: (this.next++).toString(16).padStart(this.miner.extranonce2Size * 2, '0') });
  }

  /** Finds and submits a share; resolves with it and the gateway's answer. */
  async mine(): Promise<{ share: FoundShare; result: unknown; error: string | undefined }> {
    const share = await this.find();
    const response = await this.miner.submit(share.params);
    return { share, result: response.result, error: response.error?.[1] };
  }

  close(): void {
    this.miner.close();
  }
}
