// The page of test/contributor-session.browser.test.ts: one ContributorSession on `window.contributorTest`,
// driven with page.evaluate so that every assertion stays on the Node side.
import { ContributorSession, type ContributorSessionOptions, type ContributorStats } from '../../web/contributor/session.js';
import { openMemberStore } from '../../web/store/member-store.js';

export interface ContributorTestApi {
  create(options: Omit<ContributorSessionOptions, 'store'>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(reason: string): Promise<void>;
  resume(reason: string): Promise<void>;
  limitCpu(percent: number | undefined): void;
  stats(): ContributorStats;
  /** The 'paused' and 'resumed' events so far. */
  events(): string[];
  /** Stored shares of `dbName` by status. */
  storedByStatus(dbName: string): Promise<Record<string, number>>;
}

let session: ContributorSession | undefined;
const seen: string[] = [];
const current = (): ContributorSession => {
  if (!session) throw new Error('create a session first');
  return session;
};

const api: ContributorTestApi = {
  create(options) {
    session = new ContributorSession(options);
    session.on('paused', ({ reason }) => seen.push(`paused:${reason}`));
    session.on('resumed', ({ reason }) => seen.push(`resumed:${reason}`));
  },
  start: () => current().start(),
  stop: () => current().stop(),
  pause: (reason) => current().pause(reason),
  resume: (reason) => current().resume(reason),
  limitCpu: (percent) => current().limitCpu(percent),
  stats: () => current().snapshot(),
  events: () => [...seen],
  async storedByStatus(dbName) {
    const store = await openMemberStore(dbName);
    try {
      const counts = await store.shareCounts();
      return { ...counts };
    } finally {
      store.close();
    }
  },
};

(window as unknown as { contributorTest: ContributorTestApi }).contributorTest = api;
