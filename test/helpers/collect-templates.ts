import type { WorkSource, WorkTemplate } from '../../server/work/work-source.js';

/** Collects a work source's templates; `next()` waits for the next one. */
export function collectTemplates(source: WorkSource): { all: WorkTemplate[]; next(timeoutMs?: number): Promise<WorkTemplate> } {
  const all: WorkTemplate[] = [];
  let waiter: ((t: WorkTemplate) => void) | undefined;
  source.onTemplate((t) => {
    all.push(t);
    waiter?.(t);
    waiter = undefined;
  });
  return {
    all,
    next: (timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no template in time')), timeoutMs);
        waiter = (t) => (clearTimeout(timer), resolve(t));
      }),
  };
}
