import { readFileSync } from 'node:fs';
import { parseDifficulty } from '../protocol/target.js';

/** Where the gateway's work comes from (--source). */
export type SourceConfig =
  | { kind: 'practice'; networkDifficulty: number }
  | { kind: 'stratum'; url: string }
  | { kind: 'gbt'; url: string; payoutScriptHex: string };

export interface GatewayConfig {
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
  maxConnectionsPerIp: number;
  maxInvalidPerMinute: number;
  banSeconds: number;
  ledgerSynchronous: 'FULL' | 'NORMAL';
  /** The built web app the HTTP server also serves; empty to serve none. */
  webRoot: string;
  logLevel: string;
  instanceId: number;
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
  staleGraceMs: 10_000,
  jobRefreshMs: 55_000,
  ntimeRollSeconds: 7_000,
  maxMessageBytes: 16_384,
  messagesPerSecond: 50,
  messageBurst: 200,
  idleTimeoutMs: 15 * 60_000,
  maxConnectionsPerIp: 256,
  maxInvalidPerMinute: 100,
  banSeconds: 600,
  ledgerSynchronous: 'FULL',
  webRoot: 'build/web',
  logLevel: 'info',
  instanceId: 0,
};

/** A setting's name on each surface, and how its text becomes a value. */
interface Setting {
  key: keyof GatewayConfig;
  flag: string;
  parse: (text: string) => unknown;
  help: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const int = (min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text.trim())) throw new Error(`"${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
  return n;
};
const positive = (text: string) => {
  parseDifficulty(text);
  return Number(text);
};
const hex32 = (text: string) => {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new Error(`"${text}" is not 8 hex digits`);
  return parseInt(text, 16) >>> 0;
};

export const SETTINGS: Setting[] = [
  { key: 'host', flag: 'host', parse: (t) => t, help: 'address to listen on (default 127.0.0.1)' },
  { key: 'httpPort', flag: 'http-port', parse: int(0, 65535), help: 'HTTP, WebSocket /stratum and API port; 0 picks a free one' },
  { key: 'stratumPort', flag: 'stratum-port', parse: int(0, 65535), help: 'Stratum TCP port; 0 picks a free one' },
  { key: 'dataDir', flag: 'data-dir', parse: (t) => t, help: 'where the SQLite ledger lives' },
  { key: 'source', flag: 'source', parse: parseSource, help: 'practice | stratum+tcp://USER:PASS@HOST:PORT | http://USER:PASS@HOST:PORT' },
  { key: 'startDifficulty', flag: 'start-difficulty', parse: positive, help: 'share difficulty of a new session' },
  { key: 'minDifficulty', flag: 'min-difficulty', parse: positive, help: 'lowest share difficulty vardiff may set' },
  { key: 'maxDifficulty', flag: 'max-difficulty', parse: positive, help: 'highest share difficulty vardiff may set' },
  { key: 'targetShareIntervalMs', flag: 'share-interval-ms', parse: int(100, 3_600_000), help: 'share interval vardiff aims at' },
  { key: 'versionRollingMask', flag: 'version-rolling-mask', parse: hex32, help: 'BIP310 bits miners may roll (hex)' },
  { key: 'staleGraceMs', flag: 'stale-grace-ms', parse: int(0, 600_000), help: 'grace for the previous job after a non-clean update' },
  { key: 'jobRefreshMs', flag: 'job-refresh-ms', parse: int(1_000, 60_000), help: 'a new job id at least this often' },
  { key: 'ntimeRollSeconds', flag: 'ntime-roll-seconds', parse: int(0, 7_200), help: 'how far past the job ntime a share may be' },
  { key: 'maxMessageBytes', flag: 'max-message-bytes', parse: int(512, 1_048_576), help: 'largest Stratum message' },
  { key: 'messagesPerSecond', flag: 'messages-per-second', parse: int(1, 100_000), help: 'sustained messages per connection' },
  { key: 'messageBurst', flag: 'message-burst', parse: int(1, 100_000), help: 'burst of messages per connection' },
  { key: 'idleTimeoutMs', flag: 'idle-timeout-ms', parse: int(1_000, 86_400_000), help: 'close a connection silent this long' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', parse: int(1, 1_000_000), help: 'concurrent connections per address' },
  { key: 'maxInvalidPerMinute', flag: 'max-invalid-per-minute', parse: int(1, 1_000_000), help: 'invalid messages or shares before a ban' },
  { key: 'banSeconds', flag: 'ban-seconds', parse: int(1, 86_400), help: 'length of a ban' },
  { key: 'ledgerSynchronous', flag: 'ledger-synchronous', parse: oneOf('FULL', 'NORMAL'), help: 'SQLite synchronous: FULL survives power loss' },
  { key: 'webRoot', flag: 'web-root', parse: (t) => t, help: 'built web app to serve (default build/web)' },
  { key: 'logLevel', flag: 'log-level', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), help: 'pino log level' },
  { key: 'instanceId', flag: 'instance-id', parse: int(0, 255), help: 'this gateway among several sharing one upstream' },
];

function oneOf(...values: string[]) {
  return (text: string) => {
    if (!values.includes(text)) throw new Error(`"${text}" is not one of ${values.join(', ')}`);
    return text;
  };
}

/** --source: practice, an upstream Stratum pool, or a node's JSON-RPC (getblocktemplate). */
export function parseSource(text: string): SourceConfig {
  if (text === 'practice') return { kind: 'practice', networkDifficulty: 1 };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not practice or a URL`);
  }
  if (!url.hostname || !url.port) throw new Error(`"${redact(text)}" needs a host and a port`);
  if (url.protocol === 'stratum+tcp:') return { kind: 'stratum', url: text };
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'gbt', url: text, payoutScriptHex: '' };
  throw new Error(`"${redact(text)}": the scheme must be stratum+tcp:// or http://`);
}

/** A URL with its password replaced, for messages and logs. */
export function redact(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
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
export function loadConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config: GatewayConfig = { ...DEFAULT_CONFIG };
  const configFile = flags.config ?? env.DAO_GATEWAY_CONFIG;
  const filePayout = configFile === undefined ? undefined : applyFile(config, configFile);
  for (const setting of SETTINGS) {
    const value = env[envName(setting.flag)];
    if (value !== undefined) assign(config, setting, value, envName(setting.flag));
  }
  for (const setting of SETTINGS) {
    const value = flags[setting.flag];
    if (value !== undefined) assign(config, setting, value, `--${setting.flag}`);
  }
  const payout = flags['payout-script'] ?? env.DAO_GATEWAY_PAYOUT_SCRIPT ?? filePayout;
  if (config.source.kind === 'gbt') {
    if (payout === undefined || !/^([0-9a-fA-F]{2}){1,10000}$/.test(payout)) {
      throw new ConfigError('--payout-script: a node source needs the scriptPubKey (hex) that the block reward pays');
    }
    config.source = { ...config.source, payoutScriptHex: payout.toLowerCase() };
  }
  if (config.minDifficulty > config.maxDifficulty) throw new ConfigError('min-difficulty is above max-difficulty');
  return config;
}

function assign(config: GatewayConfig, setting: Setting, text: string, origin: string): void {
  try {
    (config as unknown as Record<string, unknown>)[setting.key] = setting.parse(String(text));
  } catch (err) {
    throw new ConfigError(`${origin}: ${(err as Error).message}`);
  }
}

/** Applies a config file; returns its payout script, which only a node source uses. */
function applyFile(config: GatewayConfig, file: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file}: expected a JSON object`);
  for (const [name, value] of Object.entries(parsed)) {
    const setting = SETTINGS.find((s) => s.key === name || s.flag === name);
    if (!setting) {
      if (name === 'payoutScript' || name === 'payout-script') continue;
      throw new ConfigError(`config file ${file}: unknown setting "${name}"`);
    }
    assign(config, setting, typeof value === 'string' ? value : JSON.stringify(value), `config file ${file}: ${name}`);
  }
  const payout = (parsed as Record<string, unknown>).payoutScript ?? (parsed as Record<string, unknown>)['payout-script'];
  return typeof payout === 'string' ? payout : undefined;
}
