import type { WorkTemplate } from '../../server/work/work-source.js';

/** A work template for job manager tests: a clean job of one block unless `overrides` say otherwise. */
export function template(overrides: Partial<WorkTemplate> = {}): WorkTemplate {
  return {
    prevhash: new Uint8Array(32).fill(1),
    coinb1: Uint8Array.of(1, 2, 3),
    coinb2: Uint8Array.of(4, 5, 6),
    extranonceSize: 8,
    merkleBranch: [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)],
    version: 0x20000000,
    bits: 0x1d00ffff,
    ntime: 1_700_000_000,
    cleanJobs: true,
    ...overrides,
  };
}
