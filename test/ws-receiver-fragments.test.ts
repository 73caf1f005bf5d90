// The gateway's fix to ws's Receiver (server/stratum/ws-receiver-fragments.ts): messages arrive
// as before, whole, fragmented or not, and the receiver keeps one emptied fragment list instead
// of leaving each message's payload referenced from a dropped one.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { releaseFinishedFragments } from '../server/stratum/ws-receiver-fragments.js';
import { waitFor } from './helpers/wait-for.js';

interface ReceiverView {
  _fragments: unknown[];
}

test('messages arrive whole and the receiver reuses one emptied fragment list', async () => {
  releaseFinishedFragments();
  releaseFinishedFragments(); // idempotent: a second gateway in the process must not wrap twice
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const serverSide = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const ws = await serverSide;
    const receiver = (ws as unknown as { _receiver: ReceiverView })._receiver;
    const received: { text: string; binary: boolean }[] = [];
    ws.on('message', (data, isBinary) => received.push({ text: data.toString(), binary: isBinary }));
    const list = receiver._fragments;

    client.send('{"id":1,"method":"mining.submit"}');
    client.send('frag', { fin: false });
    client.send('ment', { fin: false });
    client.send('ed', { fin: true });
    client.send(Buffer.from([1, 2, 3]), { binary: true });
    client.send('x'.repeat(100_000));
    await waitFor('the four messages', () => received.length >= 4, 5_000, 10);

    assert.deepEqual(
      received.map((m) => (m.text.length > 64 ? `${m.text.length} chars` : m.text)),
      ['{"id":1,"method":"mining.submit"}', 'fragmented', '\u0001\u0002\u0003', '100000 chars'],
    );
    assert.deepEqual(received.map((m) => m.binary), [false, false, true, false]);
    assert.equal(receiver._fragments, list, 'the same list is kept from message to message');
    assert.equal(receiver._fragments.length, 0, 'and holds nothing once a message is handed on');
    client.close();
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});
