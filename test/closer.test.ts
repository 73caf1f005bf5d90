// The gateway's one shutdown sequence: parts close in reverse order of starting, each once,
// whether close() is called once, twice or concurrently, and a failing close does not stop the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Closer } from '../server/closer.js';

test('closes every part in reverse order, once, however often close() is called', async () => {
  const closer = new Closer();
  const closed: string[] = [];
  closer.push(() => void closed.push('ledger'));
  const source = closer.add({ name: 'source' }, (part) => void closed.push(part.name));
  closer.push(async () => {
    await new Promise((r) => setTimeout(r, 5));
    closed.push('servers');
  });
  assert.equal(source.name, 'source', 'add() hands the part back');
  await Promise.all([closer.close(), closer.close()]);
  await closer.close();
  assert.deepEqual(closed, ['servers', 'source', 'ledger']);
  assert.throws(() => closer.push(() => {}), /already closed/);
});

test('a close that fails does not stop the ones after it; the first failure is reported', async () => {
  const closer = new Closer();
  const closed: string[] = [];
  closer.push(() => void closed.push('first'));
  closer.push(() => {
    throw new Error('second broke');
  });
  closer.push(async () => {
    throw new Error('third broke');
  });
  await assert.rejects(closer.close(), /third broke/);
  assert.deepEqual(closed, ['first']);
});
