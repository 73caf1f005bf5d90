import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createBatchWriter, type BatchWriter } from './sqlite-batch.js';
import { configureConnection } from './sqlite-connection.js';
import { outcomesToWire, toWire, type FromWriter, type ToWriter, type WriterData } from './sqlite-writer-protocol.js';

/**
 * The ledger's writer thread (started by sqlite-writer-thread.ts): its own connection to the
 * ledger file, on which it writes the batches SqliteLedger sends, one at a time, each in one
 * IMMEDIATE transaction. better-sqlite3 blocks the thread it runs on for the whole transaction
 * (inserts, WAL write, fsync, the odd checkpoint): here that is this thread, not the event loop
 * that answers miners.
 *
 * It is the file's only writer of shares, so row ids are still handed out in commit order (the
 * settlement's epochs rely on it). The main thread has migrated the file before starting it.
 */

if (parentPort === null) throw new Error('sqlite-writer.ts runs as a worker thread (see sqlite-writer-thread.ts)');
const port = parentPort;
const post = (message: FromWriter) => port.postMessage(message);
const settings = workerData as WriterData;

/** The connection and its batch writer, or undefined (and the main thread told why) if it would not open. */
function open(): { connection: Database.Database; writeBatch: BatchWriter } | undefined {
  let db: Database.Database | undefined;
  try {
    // fileMustExist: the main thread created and migrated it; a file gone since is an error, not a new ledger.
    db = new Database(settings.file, { fileMustExist: true });
    configureConnection(db, settings);
    return { connection: db, writeBatch: createBatchWriter(db) };
  } catch (error) {
    db?.close();
    post({ type: 'open-failed', error: toWire(error) });
    return undefined;
  }
}

// Without a connection the thread simply ends (no listener keeps it alive), after its message went out.
const opened = open();
if (opened !== undefined) serve(opened.connection, opened.writeBatch);

function serve(connection: Database.Database, writeBatch: BatchWriter): void {
  port.on('message', (message: ToWriter) => {
    switch (message.type) {
      case 'batch': {
        let results;
        try {
          results = outcomesToWire(writeBatch(message.ops));
        } catch (error) {
          post({ type: 'failed', id: message.id, error: toWire(error) });
          return;
        }
        post({ type: 'committed', id: message.id, results });
        return;
      }
      case 'pragma': {
        let value: unknown;
        try {
          value = connection.pragma(message.source);
        } catch (error) {
          post({ type: 'failed', id: message.id, error: toWire(error) });
          return;
        }
        post({ type: 'pragma-result', id: message.id, value });
        return;
      }
      case 'close':
        // Nothing is in flight (the ledger flushed its queue first). Closing the port lets the thread end.
        connection.close();
        port.close();
        return;
      default:
        // A bug on the other side: die loudly (the main thread refuses what it had in flight).
        throw new Error(`ledger writer thread: unknown message ${JSON.stringify((message as { type?: unknown }).type)}`);
    }
  });
  post({ type: 'ready' });
}
