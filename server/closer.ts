/**
 * What a composition root started, closed in reverse order exactly once: each part pushes its
 * close right after it starts, so a failed start and a normal shutdown close the same parts the
 * same way.
 */
export class Closer {
  private readonly closes: Array<() => unknown> = [];
  private closing: Promise<void> | undefined;

  /** Registers `close` to run before everything registered earlier. */
  push(close: () => unknown): void {
    if (this.closing) throw new Error('this closer has already closed its parts');
    this.closes.push(close);
  }

  /** Registers `close(part)` and returns `part`, so a part is opened and registered in one line. */
  add<T>(part: T, close: (part: T) => unknown): T {
    this.push(() => close(part));
    return part;
  }

  /**
   * Runs every registered close, the last one first, each once (later calls get the same
   * promise). A close that fails does not stop the ones after it; the first failure is rethrown
   * once all have run.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = [];
      for (let close = this.closes.pop(); close; close = this.closes.pop()) {
        try {
          await close();
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length > 0) throw failures[0];
    })();
    return this.closing;
  }
}
