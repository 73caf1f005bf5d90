// The relayer's spending limits: who may make the DAO pay gas, how often, for how little, and how
// much a day in all. Kept apart from server/config.ts so the relayer's options travel together.
import { wholeNumber } from './whole-number.js';

/** The relayer limits' part of GatewayConfig. */
export interface RelayerLimitsConfig {
  /** Relayed requests (votes, claims, proposals) one member may have accepted per hour. */
  relayPerMemberPerHour: number;
  /** Relay POSTs one client address may make per hour (signed or not). */
  relayPerIpPerHour: number;
  /** Claims paying less than this (token base units, decimal) are not relayed: the member sends them. */
  relayMinClaimWei: string;
  /** Gas the relayer may spend in any 24 hours (wei, decimal), measured from receipts. */
  relayGasBudgetWeiPerDay: string;
}

export const RELAYER_LIMIT_DEFAULTS: RelayerLimitsConfig = {
  relayPerMemberPerHour: 20,
  relayPerIpPerHour: 120,
  // 0.01 token of 18 decimals: a claim below this is worth less than the gas the DAO would pay.
  relayMinClaimWei: '10000000000000000',
  // 0.05 ether: about 50 claim batches a day at 1 gwei.
  relayGasBudgetWeiPerDay: '50000000000000000',
};

const count = wholeNumber;

/** A non-negative integer in wei or token base units, kept as its decimal text (config stays JSON-safe). */
const wei = (text: string) => {
  const trimmed = text.trim();
  if (!/^(0|[1-9]\d{0,77})$/.test(trimmed)) throw new Error(`"${trimmed.slice(0, 40)}" is not a whole amount in base units (a decimal integer, no sign)`);
  return trimmed;
};

export const RELAYER_LIMIT_SETTINGS = [
  { key: 'relayPerMemberPerHour', flag: 'relay-per-member-per-hour', parse: count(1, 1_000_000), help: 'relayed requests one member may have accepted per hour (over: 429)' },
  { key: 'relayPerIpPerHour', flag: 'relay-per-ip-per-hour', parse: count(1, 10_000_000), help: 'relay POSTs one client address may make per hour (over: 429)' },
  { key: 'relayMinClaimWei', flag: 'relay-min-claim-wei', parse: wei, help: 'smallest claim (token base units) the relayer pays for; smaller: 422, claim from your wallet' },
  { key: 'relayGasBudgetWeiPerDay', flag: 'relay-gas-budget-wei-per-day', parse: wei, help: 'gas (wei) the relayer may spend in any 24 h; when spent, relaying pauses (503) until it frees up' },
] as const satisfies readonly { key: keyof RelayerLimitsConfig; flag: string; parse: (text: string) => unknown; help: string }[];

/** Whether a URL carries credentials: user:pass@, or an API key in its path or query. */
export function hasCredentials(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.username || u.password) return true;
  if (/[?&][^=]*(key|token|secret|auth)[^=]*=/i.test(u.search)) return true;
  // Providers put the key in the path: /v2/<32 hex or base62>, /v3/<project id>.
  return u.pathname.split('/').some((segment) => /^[A-Za-z0-9_-]{20,}$/.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment));
}

/**
 * The relayer's start-up refusals (loadConfig's): outside local mode the relayer's key must not be
 * the publisher's (draining one must not stop roots), and the public RPC URL must not hand visitors
 * a credentialed RPC URL. Returns the message, or undefined when all is well.
 */
export function relayerConfigProblem(config: { chainRpcUrl: string; chainPublicRpcUrl: string; publisherKey: string; relayerKey: string }, local: boolean): string | undefined {
  if (!config.chainRpcUrl || local) return undefined;
  if (!config.relayerKey || config.relayerKey.toLowerCase() === config.publisherKey.toLowerCase()) {
    return (
      'relayer-key is ' + (config.relayerKey ? 'the same key as publisher-key' : 'not set (it would default to publisher-key)') +
      ': give the relayer its own funded key, so that members\' relayed requests cannot drain the key that publishes epoch roots'
    );
  }
  if (config.chainPublicRpcUrl && config.chainPublicRpcUrl === config.chainRpcUrl && hasCredentials(config.chainRpcUrl)) {
    return 'chain-public-rpc is the gateway\'s own chain-rpc, which carries credentials (user:pass@ or an API key): every visitor of /api/chain would see them. Give a public RPC URL, or leave chain-public-rpc unset (the web app then reads through the member\'s wallet)';
  }
  return undefined;
}
