import { wholeNumber } from './whole-number.js';
/**
 * Per-session abuse limits (issue 13): a connection may not pile up identities or authorize
 * without end. Kept apart from config.ts so that file stays small and merges stay easy.
 */
export interface LimitsConfig {
  /** Distinct usernames one session may authorize: a few workers of one address is normal. */
  maxIdentitiesPerSession: number;
  /** mining.authorize requests one session may make per minute. */
  authorizationsPerMinute: number;
  /**
   * A session's difficulty suggestions may change its difficulty once per this many seconds: each
   * change mints it a job, and an alternating flood made one per message (issue 13).
   */
  suggestIntervalSeconds: number;
  /**
   * Accepted shares (ledger rows) per second one client address may cause: over it, its sessions'
   * difficulty floors are raised, so the same work is credited in fewer rows.
   */
  rowsPerSecondPerIp: number;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  maxIdentitiesPerSession: 8,
  authorizationsPerMinute: 30,
  suggestIntervalSeconds: 30,
  rowsPerSecondPerIp: 50,
};


/** Same shape as config.ts's settings; config.ts appends these to its list. */
export const LIMIT_SETTINGS: { key: keyof LimitsConfig; flag: string; parse: (text: string) => unknown; help: string }[] = [
  { key: 'maxIdentitiesPerSession', flag: 'max-identities-per-conn', parse: wholeNumber(1, 10_000), help: 'distinct usernames one connection may authorize (default 8)' },
  { key: 'authorizationsPerMinute', flag: 'authorizes-per-minute', parse: wholeNumber(1, 100_000), help: 'mining.authorize requests per connection per minute (default 30)' },
  { key: 'suggestIntervalSeconds', flag: 'suggest-every-seconds', parse: wholeNumber(1, 86_400), help: 'a difficulty suggestion may change a connection\'s difficulty once per this many seconds (default 30)' },
  { key: 'rowsPerSecondPerIp', flag: 'rows-per-second-per-ip', parse: wholeNumber(1, 1_000_000), help: 'accepted shares per second per address; over it, its sessions\' difficulty floors are raised (default 50)' },
];
