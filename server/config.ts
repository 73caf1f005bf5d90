import { readFileSync } from 'node:fs';
import { ProtocolError } from '../protocol/errors.js';
import { difficultyToTarget } from '../protocol/target.js';
import { parseCidrList } from './cidr.js';
import { NETWORK_DEFAULTS, NETWORK_SETTINGS, type NetworkConfig } from './config/network.js';
import { DEFAULT_LIMITS, LIMIT_SETTINGS, type LimitsConfig } from './config/limits.js';
import { RELAYER_LIMIT_DEFAULTS, RELAYER_LIMIT_SETTINGS, relayerConfigProblem, type RelayerLimitsConfig } from './config/relayer.js';
import { wholeNumber } from './config/whole-number.js';

/** Where the gateway's work comes from (--source). */
export type SourceConfig =
  | { kind: 'practice'; networkDifficulty: number }
  | { kind: 'stratum'; url: string }
  | { kind: 'gbt'; url: string; payoutScriptHex: string };

export interface GatewayConfig extends NetworkConfig, LimitsConfig, RelayerLimitsConfig {
  host: string;
  httpPort: number;
  stratumPort: number;
  dataDir: string;
  source: SourceConfig;
  startDifficulty: number;
  minDifficulty: number;
  maxDifficulty: number;
  targetShareIntervalMs: number;
  versionRollingMask: number;
  staleGraceMs: number;
  jobRefreshMs: number;
  ntimeRollSeconds: number;
  maxMessageBytes: number;
  messagesPerSecond: number;
  messageBurst: number;
  idleTimeoutMs: number;
  wsPingIntervalMs: number;
  maxConnectionsPerIp: number;
  maxInvalidPerMinute: number;
  banSeconds: number;
  /** Connections of one address banned within banSeconds that ban the address itself. */
  banAddressAfter: number;
  /** CIDR ranges (a bare address is one host) never address-banned nor capped per address. */
  banExempt: string[];
  /** A dropped session's extranonce1 waits this long for the miner to resume it. */
  resumeWindowSeconds: number;
  /** Held extranonce1s per address (the oldest is released beyond; --ban-exempt ranges are not capped). */
  resumeHoldsPerIp: number;
  /** The least extranonce2 miners get (1 fits 65,536 sessions in a 4-byte upstream slot; cgminer needs 2). */
  minerExtranonce2Bytes: number;
  ledgerSynchronous: 'FULL' | 'NORMAL';
  /**
   * Where members' work is recorded: `sqlite` (the file <dataDir>/ledger.sqlite, one gateway) or a
   * postgres:// URL that several gateways share (each with its own instanceId). A secret when it
   * holds a password: log it through redact().
   */
  ledger: string;
  /** The built web app the HTTP server also serves; empty to serve none. */
  webRoot: string;
  logLevel: string;
  instanceId: number;
  /** JSON-RPC URL of the chain the DAO settles on; empty: no settlement, no relayer. */
  chainRpcUrl: string;
  /** The RPC URL browsers use to read the chain themselves; empty: not published (the web app reads through the wallet). Local mode: the anvil URL. */
  chainPublicRpcUrl: string;
  /** JSON file with the deployed addresses (written by the deploy step; see server/chain/deploy.ts). */
  chainDeploymentFile: string;
  /** Private key (0x + 64 hex) holding PUBLISHER_ROLE and the reward funds. A secret: never logged. */
  publisherKey: string;
  /** Private key that pays the gas of relayed votes and claims; must differ from publisherKey outside local mode. A secret. */
  relayerKey: string;
  /** Length of a settlement epoch. */
  epochSeconds: number;
  /** Reward per epoch, in whole tokens as a decimal (e.g. "100" or "12.5"). */
  epochReward: string;
  /** How often the relayer submits what it has queued. */
  relayIntervalMs: number;
}

export const DEFAULT_CONFIG: GatewayConfig = {
  host: '127.0.0.1',
  httpPort: 8080,
  stratumPort: 3333,
  dataDir: '.data',
  source: { kind: 'practice', networkDifficulty: 1 },
  // A browser thread does a few MH/s; 0.001 is about one share a second for it, a starting
  // point vardiff leaves within a minute for anything faster or slower.
  startDifficulty: 0.001,
  minDifficulty: 1e-6,
  maxDifficulty: 1e12,
  targetShareIntervalMs: 10_000,
  versionRollingMask: 0x1fffe000,
  // Any job of the current block stays valid this long after a newer one replaced it: miners
  // keep a job that is not clean for up to a minute (cpuminer) and proxies queue shares.
  staleGraceMs: 120_000,
  jobRefreshMs: 55_000,
  ntimeRollSeconds: 7_000,
  maxMessageBytes: 16_384,
  messagesPerSecond: 50,
  messageBurst: 200,
  idleTimeoutMs: 15 * 60_000,
  wsPingIntervalMs: 30_000,
  maxConnectionsPerIp: 256,
  maxInvalidPerMinute: 100,
  banSeconds: 600,
  banAddressAfter: 5,
  banExempt: [],
  resumeWindowSeconds: 300,
  resumeHoldsPerIp: 8,
  minerExtranonce2Bytes: 1,
  ledgerSynchronous: 'FULL',
  ledger: 'sqlite',
  webRoot: 'build/web',
  logLevel: 'info',
  instanceId: 0,
  chainRpcUrl: '',
  chainPublicRpcUrl: '',
  chainDeploymentFile: '',
  publisherKey: '',
  relayerKey: '',
  epochSeconds: 3600,
  epochReward: '100',
  relayIntervalMs: 3000,
  ...NETWORK_DEFAULTS,
  ...DEFAULT_LIMITS,
  ...RELAYER_LIMIT_DEFAULTS,
};

/** A setting's name on each surface, and how its text becomes a value. */
interface Setting {
  key: keyof GatewayConfig;
  flag: string;
  parse: (text: string) => unknown;
  help: string;
  /** The flag may be given several times (and the file may give a list): the values join with commas. */
  repeatable?: true;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const int = wholeNumber;
const positive = (text: string) => {
  try {
    // The exact decimal must be positive and leave a target (at most DIFF1_TARGET, about 2.7e67).
    difficultyToTarget(text);
  } catch (err) {
    throw err instanceof ProtocolError ? new Error(err.detail) : err;
  }
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`"${text}" is out of range`);
  return n;
};
const nonEmpty = (text: string) => {
  if (text.trim() === '') throw new Error('must not be empty');
  return text;
};
const hex32 = (text: string) => {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new Error(`"${text}" is not 8 hex digits`);
  return parseInt(text, 16) >>> 0;
};

export const SETTINGS: Setting[] = [
  { key: 'host', flag: 'host', parse: nonEmpty, help: 'address to listen on (default 127.0.0.1)' },
  { key: 'httpPort', flag: 'http-port', parse: int(0, 65535), help: 'HTTP, WebSocket /stratum and API port; 0 picks a free one' },
  { key: 'stratumPort', flag: 'stratum-port', parse: int(0, 65535), help: 'Stratum TCP port; 0 picks a free one' },
  { key: 'dataDir', flag: 'data-dir', parse: nonEmpty, help: 'where the SQLite ledger lives' },
  { key: 'source', flag: 'source', parse: parseSource, help: 'practice | stratum+tcp://USER:PASS@HOST:PORT | http://USER:PASS@HOST:PORT' },
  { key: 'startDifficulty', flag: 'start-difficulty', parse: positive, help: 'share difficulty of a new session' },
  { key: 'minDifficulty', flag: 'min-difficulty', parse: positive, help: 'lowest share difficulty vardiff may set' },
  { key: 'maxDifficulty', flag: 'max-difficulty', parse: positive, help: 'highest share difficulty vardiff may set' },
  { key: 'targetShareIntervalMs', flag: 'share-interval-ms', parse: int(100, 3_600_000), help: 'share interval vardiff aims at' },
  { key: 'versionRollingMask', flag: 'version-rolling-mask', parse: hex32, help: 'BIP310 bits miners may roll (hex)' },
  { key: 'staleGraceMs', flag: 'stale-grace-ms', parse: int(0, 600_000), help: 'how long a job of the current block is still accepted after a newer one (not clean) replaced it; a new block ends it at once' },
  { key: 'jobRefreshMs', flag: 'job-refresh-ms', parse: int(1_000, 60_000), help: 'a new job id at least this often' },
  { key: 'ntimeRollSeconds', flag: 'ntime-roll-seconds', parse: int(0, 7_200), help: 'how far past the job ntime a share may be' },
  { key: 'maxMessageBytes', flag: 'max-message-bytes', parse: int(512, 1_048_576), help: 'largest Stratum message' },
  { key: 'messagesPerSecond', flag: 'messages-per-second', parse: int(1, 100_000), help: 'sustained messages per connection' },
  { key: 'messageBurst', flag: 'message-burst', parse: int(1, 100_000), help: 'burst of messages per connection' },
  { key: 'idleTimeoutMs', flag: 'idle-timeout-ms', parse: int(1_000, 86_400_000), help: 'close a connection silent this long' },
  { key: 'wsPingIntervalMs', flag: 'ws-ping-interval-ms', parse: int(100, 600_000), help: 'ping a WebSocket silent this long; drop it if still silent one interval later' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', parse: int(1, 1_000_000), help: 'concurrent connections per address' },
  { key: 'maxInvalidPerMinute', flag: 'max-invalid-per-minute', parse: int(1, 1_000_000), help: 'strikes a minute that ban a connection (stale, low-difficulty and duplicate shares: only those past this many)' },
  { key: 'banSeconds', flag: 'ban-seconds', parse: int(1, 86_400), help: 'length of an address ban' },
  { key: 'banAddressAfter', flag: 'ban-address-after', parse: int(1, 1_000_000), help: 'connections of one address banned within --ban-seconds that ban the address' },
  { key: 'banExempt', flag: 'ban-exempt', parse: parseCidrList, repeatable: true, help: 'CIDRs of known farms and proxies (comma-separated or repeated): no address ban or per-address cap' },
  { key: 'resumeWindowSeconds', flag: 'resume-window-seconds', parse: int(0, 86_400), help: "how long a dropped session's extranonce1 is held for the miner to resume it" },
  { key: 'resumeHoldsPerIp', flag: 'resume-holds-per-ip', parse: int(0, 1_000_000), help: 'extranonce1s of dropped sessions held per address (the oldest is released beyond; held ones yield to new miners when the pool is full)' },
  { key: 'minerExtranonce2Bytes', flag: 'miner-extranonce2-bytes', parse: int(1, 7), help: 'least extranonce2 bytes a miner gets: 1 serves 65,536 sessions on a 4-byte upstream slot; cgminer/bmminer need 2 (256 sessions there)' },
  { key: 'ledgerSynchronous', flag: 'ledger-synchronous', parse: oneOf('FULL', 'NORMAL'), help: 'SQLite synchronous: FULL survives power loss' },
  { key: 'ledger', flag: 'ledger', parse: ledgerLocation, help: 'sqlite (a file in --data-dir) | postgres://USER:PASS@HOST:PORT/DB shared by several gateways' },
  { key: 'webRoot', flag: 'web-root', parse: (t) => t, help: 'built web app to serve (default build/web)' },
  { key: 'logLevel', flag: 'log-level', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), help: 'pino log level' },
  { key: 'instanceId', flag: 'instance-id', parse: int(0, 255), help: 'this gateway among several sharing one upstream' },
  { key: 'chainRpcUrl', flag: 'chain-rpc', parse: httpUrl, help: 'JSON-RPC URL of the settlement chain (empty: no settlement)' },
  { key: 'chainPublicRpcUrl', flag: 'chain-public-rpc', parse: httpUrl, help: 'RPC URL the web app reads the chain from (default: none, the app reads through the wallet); never a credentialed --chain-rpc' },
  { key: 'chainDeploymentFile', flag: 'chain-deployment', parse: nonEmpty, help: 'JSON file with the deployed DAO contract addresses' },
  { key: 'publisherKey', flag: 'publisher-key', parse: privateKey, help: 'key with PUBLISHER_ROLE that posts epoch roots (secret)' },
  { key: 'relayerKey', flag: 'relayer-key', parse: privateKey, help: 'key paying gas for relayed votes, claims and proposals (secret); must differ from --publisher-key' },
  { key: 'epochSeconds', flag: 'epoch-seconds', parse: int(10, 30 * 86_400), help: 'length of a settlement epoch' },
  { key: 'epochReward', flag: 'epoch-reward', parse: tokenAmount, help: 'reward per epoch in whole tokens (decimal)' },
  { key: 'relayIntervalMs', flag: 'relay-interval-ms', parse: int(100, 3_600_000), help: 'how often queued votes and claims are submitted' },
  ...NETWORK_SETTINGS,
  ...LIMIT_SETTINGS,
  ...RELAYER_LIMIT_SETTINGS,
];

function httpUrl(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  if (!URL.canParse(trimmed) || !/^https?:$/.test(new URL(trimmed).protocol)) throw new Error(`"${redact(trimmed)}" is not an http:// or https:// URL`);
  return trimmed;
}

const LEDGER_FORMS = 'sqlite or postgres://USER:PASS@HOST:PORT/DB';

/** --ledger: `sqlite`, or the URL of a PostgreSQL database (its password is never repeated). */
function ledgerLocation(text: string): string {
  const trimmed = text.trim();
  if (trimmed === 'sqlite') return trimmed;
  if (!URL.canParse(trimmed)) {
    if (/[:@/]/.test(trimmed)) throw new Error(`not a valid URL (not repeated here: it may hold a password); expected ${LEDGER_FORMS}`);
    throw new Error(`"${trimmed.slice(0, 40)}" is not ${LEDGER_FORMS}`);
  }
  const url = new URL(trimmed);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`"${redact(trimmed)}" is not ${LEDGER_FORMS} (postgresql:// also works)`);
  }
  // A Unix socket is named by ?host=/path, as libpq and node-postgres read it.
  if (!url.hostname && !url.searchParams.get('host')) throw new Error(`"${redact(trimmed)}" names no host; expected ${LEDGER_FORMS}`);
  return trimmed;
}

function privateKey(text: string): string {
  const trimmed = text.trim();
  // Never echoed: it is a secret even when mistyped.
  if (!/^0x[0-9a-fA-F]{64}$/.test(trimmed)) throw new Error(`not a private key: expected 0x and 64 hex digits (${trimmed.length} characters given; not repeated here)`);
  return trimmed.toLowerCase();
}

function tokenAmount(text: string): string {
  const trimmed = text.trim();
  if (!/^\d{1,30}(\.\d{1,18})?$/.test(trimmed)) throw new Error(`"${trimmed.slice(0, 40)}" is not a token amount: a decimal such as 100 or 12.5`);
  return trimmed;
}

function oneOf(...values: string[]) {
  return (text: string) => {
    if (!values.includes(text)) throw new Error(`"${text}" is not one of ${values.join(', ')}`);
    return text;
  };
}

const SOURCE_FORMS = 'practice, stratum+tcp://USER:PASS@HOST:PORT or http://USER:PASS@HOST:PORT';

/** --source: practice, an upstream Stratum pool, or a node's JSON-RPC (getblocktemplate). */
export function parseSource(input: string): SourceConfig {
  const text = input.trim();
  if (text === 'practice') return { kind: 'practice', networkDifficulty: 1 };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Text that is no URL at all may still hold a password (a typo in the host or the port):
    // repeat it only when it cannot.
    if (/[:@/]/.test(text)) throw new Error(`not a valid URL (not repeated here: it may hold a password); expected ${SOURCE_FORMS}`);
    throw new Error(`"${text}" is not ${SOURCE_FORMS}`);
  }
  const kind = url.protocol === 'stratum+tcp:' ? 'stratum' : url.protocol === 'http:' || url.protocol === 'https:' ? 'gbt' : undefined;
  if (!kind) throw new Error(`the scheme must be stratum+tcp:// or http://, not ${url.protocol}`);
  // url.port is empty for a special scheme's default port (http://h:80), so look at the text too.
  if (!url.hostname || !(url.port || /:\d+$/.test(authorityHost(text)))) throw new Error(`"${redact(text)}" needs a host and a port`);
  return kind === 'stratum' ? { kind, url: text } : { kind, url: text, payoutScriptHex: '' };
}

/** HOST:PORT of a URL's authority, without the user information. */
function authorityHost(text: string): string {
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#\\]*)/.exec(text)?.[1] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/**
 * A URL with its password replaced, for messages and logs: USER:PASS@ becomes USER:***@. The user
 * information ends at the last "@" of the authority (as the URL parser reads it), or, in text the
 * parser refuses, at the last "@" at all.
 */
export function redact(text: string): string {
  const slashes = text.indexOf('//');
  const start = slashes < 0 ? 0 : slashes + 2;
  const rest = text.slice(start);
  const authorityEnd = rest.search(/[/?#\\]/);
  let at = (authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)).lastIndexOf('@');
  if (at < 0 && !URL.canParse(text)) at = rest.lastIndexOf('@');
  if (at < 0) return text;
  const colon = rest.slice(0, at).indexOf(':');
  if (colon < 0) return text;
  return text.slice(0, start) + rest.slice(0, colon) + ':***' + rest.slice(at);
}

/** The environment variable of a setting: --http-port is DAO_GATEWAY_HTTP_PORT. */
export function envName(flag: string): string {
  return 'DAO_GATEWAY_' + flag.toUpperCase().replace(/-/g, '_');
}

/**
 * The one config loader: defaults, then the config file (JSON, keys as in GatewayConfig or as
 * flag names), then DAO_GATEWAY_* environment variables, then flags. Each error names the setting
 * and where it came from.
 */
export function loadConfig(flags: Record<string, string | string[] | undefined>, env: NodeJS.ProcessEnv = process.env, mode: { local?: boolean } = {}): GatewayConfig {
  const config: GatewayConfig = { ...DEFAULT_CONFIG };
  const configFile = flagText(flags.config) ?? env.DAO_GATEWAY_CONFIG;
  const origin = flags.config !== undefined ? '--config' : 'DAO_GATEWAY_CONFIG';
  if (configFile !== undefined && configFile.trim() === '') throw new ConfigError(`${origin}: must not be empty`);
  const filePayout = configFile === undefined ? undefined : applyFile(config, configFile);
  for (const setting of SETTINGS) {
    const value = env[envName(setting.flag)];
    if (value !== undefined) assign(config, setting, value, envName(setting.flag));
  }
  for (const setting of SETTINGS) {
    const value = flagText(flags[setting.flag]);
    if (value !== undefined) assign(config, setting, value, `--${setting.flag}`);
  }
  const payout =
    flags['payout-script'] !== undefined
      ? { value: flagText(flags['payout-script'])!, origin: '--payout-script' }
      : env.DAO_GATEWAY_PAYOUT_SCRIPT !== undefined
        ? { value: env.DAO_GATEWAY_PAYOUT_SCRIPT, origin: 'DAO_GATEWAY_PAYOUT_SCRIPT' }
        : filePayout;
  // Checked wherever it came from, though only a node source uses it: a typo should not wait
  // until the day the source changes.
  if (payout && !/^([0-9a-fA-F]{2}){1,10000}$/.test(payout.value.trim())) {
    throw new ConfigError(`${payout.origin}: ${JSON.stringify(payout.value)} is not a scriptPubKey in hex (an even number of hex digits, 1 to 10000 bytes)`);
  }
  if (config.source.kind === 'gbt') {
    if (!payout) {
      throw new ConfigError(
        '--payout-script is required with a node source (--source http://...): give the scriptPubKey (hex) the block reward pays, as --payout-script HEX, DAO_GATEWAY_PAYOUT_SCRIPT or "payoutScript" in the config file',
      );
    }
    config.source = { ...config.source, payoutScriptHex: payout.value.trim().toLowerCase() };
  }
  if (config.httpPort !== 0 && config.httpPort === config.stratumPort) {
    throw new ConfigError(`http-port and stratum-port are both ${config.httpPort}: the two servers need two ports`);
  }
  if (config.chainRpcUrl) {
    if (!config.chainDeploymentFile) throw new ConfigError('chain-rpc is set but chain-deployment is not: settlement needs the deployed contract addresses');
    if (!config.publisherKey) throw new ConfigError('chain-rpc is set but publisher-key is not: settlement needs the key that posts epoch roots');
    const problem = relayerConfigProblem(config, mode.local === true);
    if (problem) throw new ConfigError(problem);
  }
  if (config.minDifficulty > config.maxDifficulty) {
    throw new ConfigError(`min-difficulty ${config.minDifficulty} is above max-difficulty ${config.maxDifficulty}`);
  }
  return config;
}

/** A flag's text: a repeated flag's values joined with commas. */
function flagText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function assign(config: GatewayConfig, setting: Setting, text: string, origin: string): void {
  try {
    (config as unknown as Record<string, unknown>)[setting.key] = setting.parse(String(text));
  } catch (err) {
    throw new ConfigError(`${origin}: ${(err as Error).message}`);
  }
}

/** Applies a config file; returns its payout script, which only a node source uses. */
function applyFile(config: GatewayConfig, file: string): { value: string; origin: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`config file ${file}: ${code === 'ENOENT' ? 'not found' : (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file}: not valid JSON (${jsonErrorWhere((err as Error).message, text)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file}: expected a JSON object`);
  let payout: { value: string; origin: string } | undefined;
  for (const [name, value] of Object.entries(parsed)) {
    const origin = `config file ${file}: ${name}`;
    if (name === 'payoutScript' || name === 'payout-script') {
      if (typeof value !== 'string') throw new ConfigError(`${origin}: expected a hex string, got ${JSON.stringify(value)}`);
      payout = { value, origin };
      continue;
    }
    const setting = SETTINGS.find((s) => s.key === name || s.flag === name);
    if (!setting) throw new ConfigError(`config file ${file}: unknown setting "${name}"`);
    if (setting.repeatable && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      assign(config, setting, value.join(','), origin);
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      // Not echoed: an object here could be a source with its password.
      throw new ConfigError(`${origin}: expected a string or a number, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    }
    assign(config, setting, String(value), origin);
  }
  return payout;
}

/**
 * Where JSON.parse stopped, without the excerpt of the file that V8 puts in some of its messages
 * (the excerpt could be part of a source URL's password).
 */
function jsonErrorWhere(message: string, text: string): string {
  const position = /at position (\d+)/.exec(message);
  const what = message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '').replace(/ (in JSON )?at position \d+.*$/s, '');
  if (!position) return what;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${what} at line ${line} column ${column}`;
}
