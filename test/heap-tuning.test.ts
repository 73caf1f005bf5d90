// The gateway CLIs set V8's heap growing factor at run time (server/heap-tuning.ts). V8 ignores an
// unknown flag given that way without a word, so this checks, on the command line where V8 does
// refuse unknown flags, that this Node's V8 still has it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT } from '../server/heap-tuning.js';

test('this Node knows --heap-growing-percent (and refuses a flag it does not know)', () => {
  const known = spawnSync(process.execPath, [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '-e', '0'], { encoding: 'utf8' });
  assert.equal(known.status, 0, `node refused --heap-growing-percent: ${known.stderr}; server/heap-tuning.ts needs another way to keep full collections rare`);
  const unknown = spawnSync(process.execPath, ['--heap-growing-percent-that-is-not-a-flag=1', '-e', '0'], { encoding: 'utf8' });
  assert.notEqual(unknown.status, 0, 'the check above means something only if node refuses unknown flags');
});
