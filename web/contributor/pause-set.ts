// Why mining is paused: a set of reasons, each held by whoever paused for it (a device rule, the
// widget's visibility guard, a partner's own rule). Mining is paused while ANY reason holds.
export interface PauseReason {
  /** The key: 'hidden', 'battery', 'save-data', or a caller's own. */
  reason: string;
  /** Words for the page. */
  detail: string;
}

export class PauseSet {
  private readonly held = new Map<string, string>();

  /** Holds `reason`; true when it was not held before. */
  add(reason: string, detail: string = reason): boolean {
    const had = this.held.has(reason);
    this.held.set(reason, detail);
    return !had;
  }

  /** Lets `reason` go; true when it was held. */
  delete(reason: string): boolean {
    return this.held.delete(reason);
  }

  has(reason: string): boolean {
    return this.held.has(reason);
  }

  get paused(): boolean {
    return this.held.size > 0;
  }

  list(): PauseReason[] {
    return [...this.held].map(([reason, detail]) => ({ reason, detail }));
  }
}
