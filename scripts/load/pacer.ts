// Spreads the requested share rate over the miners: each miner submits on average every
// miners/rate seconds, each gap drawn uniformly from 0.5x to 1.5x of that, so the gateway sees
// neither lockstep bursts nor one hot miner. Open loop: a share is sent when it is due whether or
// not earlier ones were answered, so a slow gateway shows as latency, not as a lower send rate.
// Due times live in one binary heap (not a timer per miner: 20,000 timers would cost more than
// the shares).

export class Pacer {
  private readonly dueMs: Float64Array;
  private readonly who: Int32Array;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly miners: number,
    /** Total shares per second over all miners. */
    private readonly rate: number,
    private readonly fire: (miner: number) => boolean,
    /** How late the due share was when it went: the generator's own lag. */
    private readonly lag: (ms: number) => void,
  ) {
    this.dueMs = new Float64Array(miners);
    this.who = new Int32Array(miners);
  }

  private get meanGapMs(): number {
    return (1000 * this.miners) / this.rate;
  }

  start(): void {
    if (this.rate <= 0 || this.miners === 0) return;
    const now = performance.now();
    // The first shares spread over one gap, so the load starts at its rate, not with a burst.
    for (let i = 0; i < this.miners; i++) this.push(now + Math.random() * this.meanGapMs, i);
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private tick(): void {
    if (!this.running) return;
    const now = performance.now();
    while (this.size > 0 && this.dueMs[0]! <= now) {
      const due = this.dueMs[0]!;
      const miner = this.who[0]!;
      this.pop();
      this.lag(now - due);
      // From the due time, not from now: a late share does not lower the rate that follows.
      if (this.fire(miner)) this.push(due + this.meanGapMs * (0.5 + Math.random()), miner);
    }
    if (this.size === 0) return;
    // At most 50 ms asleep, so a stop is prompt; setTimeout's floor of 1 ms batches dense loads.
    const waitMs = Math.min(50, Math.max(0, this.dueMs[0]! - now));
    this.timer = setTimeout(() => this.tick(), waitMs);
  }

  private push(due: number, miner: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.dueMs[parent]! <= due) break;
      this.dueMs[i] = this.dueMs[parent]!;
      this.who[i] = this.who[parent]!;
      i = parent;
    }
    this.dueMs[i] = due;
    this.who[i] = miner;
  }

  private pop(): void {
    const last = --this.size;
    const due = this.dueMs[last]!;
    const miner = this.who[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && this.dueMs[child + 1]! < this.dueMs[child]!) child++;
      if (this.dueMs[child]! >= due) break;
      this.dueMs[i] = this.dueMs[child]!;
      this.who[i] = this.who[child]!;
      i = child;
    }
    if (last > 0) {
      this.dueMs[i] = due;
      this.who[i] = miner;
    }
  }
}
