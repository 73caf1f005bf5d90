// Fresh PostgreSQL databases for tests, so that runs never see each other's data. The server is
// the one at DAO_TEST_POSTGRES_URL (default below; .ci/run installs and starts it). When it does
// not answer, tests fail with the reason and how to start it: they are never skipped.
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { redact } from '../../server/config.js';

export const TEST_POSTGRES_URL = process.env.DAO_TEST_POSTGRES_URL ?? 'postgres://dao:dao@127.0.0.1:5432/dao';

export interface TestDatabase {
  /** postgres://... of the new, empty database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

const HOW_TO_START =
  'start PostgreSQL 15 and create the role, e.g. as root: `pg_ctlcluster 15 main start` then ' +
  "`su postgres -c \"psql -c \\\"CREATE ROLE dao LOGIN PASSWORD 'dao' CREATEDB\\\" -c 'CREATE DATABASE dao OWNER dao'\"` " +
  '(.ci/run does this), or point DAO_TEST_POSTGRES_URL at a server where the role may CREATE DATABASE';

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new Error(`PostgreSQL for the tests does not answer at ${redact(TEST_POSTGRES_URL)}: ${(err as Error).message}; ${HOW_TO_START}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** CREATE DATABASE dao_test_<random>; its URL is TEST_POSTGRES_URL with the database replaced. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `dao_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE: a connection a failed test left open must not keep the database alive.
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A fresh database for the whole test file: created in `before`, dropped in `after`. Returns a
 * getter (the database exists only once `before` ran).
 */
export function useFreshDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  return () => {
    if (!db) throw new Error('the test database is not created yet (use it inside a test)');
    return db;
  };
}

/** One query on its own connection to `url` (for assertions that bypass the code under test). */
export async function queryOnce<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}
