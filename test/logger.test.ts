// The gateway's log lines: JSON for machines, readable on a terminal (npm start).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/** What a child process logs with createLogger, as if its stdout were (or were not) a terminal. */
function logged(terminal: boolean): string {
  const script = `import { createLogger } from './server/logger.ts'; createLogger('info', ${terminal}).info({ epoch: 7 }, 'epoch closed');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('stdout not a terminal: one JSON object a line', () => {
  const lines = logged(false).trim().split('\n');
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as { msg: string; epoch: number; level: number };
  assert.deepEqual([entry.msg, entry.epoch, entry.level], ['epoch closed', 7, 30]);
});

test('stdout a terminal: a readable line, not JSON', () => {
  const out = logged(true);
  assert.match(out, /INFO.*epoch closed/);
  assert.match(out, /epoch: 7/);
  assert.throws(() => JSON.parse(out.split('\n')[0]!), 'the first line is not JSON');
});
