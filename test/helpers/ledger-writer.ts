/**
 * Child process for the crash test of test/helpers/ledger-cases.ts: appends shares to the ledger
 * given as argv[2] (a SQLite file, or a postgres:// URL) forever, from several concurrent
 * producers (so that batches form), and prints each shareKey on its own line only AFTER its appendShare promise resolved, i.e. once
 * the gateway would have acknowledged it. The parent SIGKILLs this process mid-stream.
 * (stdout to a pipe is synchronous on Linux, so a printed line has left this process.)
 */
import type { Ledger } from '../../server/ledger/ledger.js';
import { openPgLedger } from '../../server/ledger/pg/pg-ledger.js';
import { openSqliteLedger } from '../../server/ledger/sqlite-ledger.js';

const location = process.argv[2];
if (!location) throw new Error('usage: ledger-writer.ts <ledger file | postgres:// URL>');
const ledger: Ledger = /^postgres(ql)?:\/\//.test(location)
  ? await openPgLedger(location, { instanceId: 0 })
  : openSqliteLedger(location, { synchronous: 'FULL' });
const PRODUCERS = 16;
const MEMBERS = ['0x1111111111111111111111111111111111111111', '0x2222222222222222222222222222222222222222'];

async function produce(producer: number): Promise<never> {
  for (let i = 0; ; i++) {
    const shareKey = `crash-${process.pid}-${producer}-${i}`;
    await ledger.appendShare({
      member: MEMBERS[i % MEMBERS.length]!,
      worker: `w${producer}`,
      sessionId: `s${producer}`,
      jobId: 'job',
      difficulty: 1,
      work: 2 ** 32,
      hash: '00'.repeat(32),
      acceptedAtMs: Date.now(),
      shareKey,
    });
    process.stdout.write(`${shareKey}\n`);
  }
}

for (let p = 0; p < PRODUCERS; p++) {
  produce(p).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
