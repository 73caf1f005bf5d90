// The gateway's one config loader: defaults <- JSON config file <- DAO_GATEWAY_* env <- flags.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, envName, loadConfig, parseSource, redact, SETTINGS, type GatewayConfig } from '../server/config.js';

const dir = mkdtempSync(join(tmpdir(), 'dao-gateway-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A config file with this content (an object is written as JSON, a string as is). */
function configFile(content: unknown): string {
  const file = join(dir, `c${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

type Flags = Record<string, string | undefined>;

/** loadConfig must throw a ConfigError with exactly this message (or one matching the pattern). */
function refuses(flags: Flags, env: NodeJS.ProcessEnv, expected: string | RegExp): string {
  let message = '';
  assert.throws(
    () => loadConfig(flags, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
      message = err.message;
      if (typeof expected === 'string') assert.equal(message, expected);
      else assert.match(message, expected);
      assert.ok(!message.includes('\n'), `one line: ${message}`);
      return true;
    },
  );
  return message;
}

const PAYOUT = '0014' + '11'.repeat(20);

describe('defaults', () => {
  test('nothing given: the defaults, a practice chain on 127.0.0.1', () => {
    const config = loadConfig({}, {});
    assert.deepEqual(config, DEFAULT_CONFIG);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.httpPort, 8080);
    assert.equal(config.stratumPort, 3333);
    assert.deepEqual(config.source, { kind: 'practice', networkDifficulty: 1 });
  });
  test('the result is a copy: DEFAULT_CONFIG is not changed', () => {
    loadConfig({ 'http-port': '1' }, {});
    assert.equal(DEFAULT_CONFIG.httpPort, 8080);
  });
  test('unrelated environment variables are ignored', () => {
    assert.deepEqual(loadConfig({}, { HOME: '/root', PORT: '1', DAO_GATEWAYX_HTTP_PORT: 'x' }), DEFAULT_CONFIG);
  });
  test('every setting has a flag, an environment variable and a key of the config', () => {
    for (const s of SETTINGS) {
      assert.ok(s.key in DEFAULT_CONFIG, s.key);
      assert.match(envName(s.flag), /^DAO_GATEWAY_[A-Z0-9_]+$/);
    }
    assert.equal(envName('http-port'), 'DAO_GATEWAY_HTTP_PORT');
    assert.equal(new Set(SETTINGS.map((s) => s.flag)).size, SETTINGS.length);
  });
});

describe('extranonce resume settings', () => {
  test('default 300 s and 8 held per address; the config file and flags set them', () => {
    assert.equal(DEFAULT_CONFIG.resumeWindowSeconds, 300);
    assert.equal(DEFAULT_CONFIG.resumeHoldsPerIp, 8);
    assert.equal(DEFAULT_CONFIG.minerExtranonce2Bytes, 1);
    const file = configFile({ resumeHoldsPerIp: 2, 'resume-window-seconds': 60 });
    assert.deepEqual(((c) => [c.resumeHoldsPerIp, c.resumeWindowSeconds])(loadConfig({ config: file }, {})), [2, 60]);
    assert.equal(loadConfig({ config: file, 'resume-holds-per-ip': '0' }, {}).resumeHoldsPerIp, 0);
  });
});

describe('precedence: file < env < flags', () => {
  const file = configFile({ 'http-port': 1001, stratumPort: '2001', 'log-level': 'warn' });
  test('each surface overrides the one before it, setting by setting', () => {
    assert.equal(loadConfig({ config: file }, {}).httpPort, 1001);
    assert.equal(loadConfig({ config: file }, { DAO_GATEWAY_HTTP_PORT: '1002' }).httpPort, 1002);
    const all = loadConfig({ config: file, 'http-port': '1003' }, { DAO_GATEWAY_HTTP_PORT: '1002', DAO_GATEWAY_STRATUM_PORT: '2002' });
    assert.equal(all.httpPort, 1003);
    assert.equal(all.stratumPort, 2002);
    assert.equal(all.logLevel, 'warn');
    assert.equal(all.host, DEFAULT_CONFIG.host);
  });
  test('the config file may be named by DAO_GATEWAY_CONFIG; --config wins over it', () => {
    const other = configFile({ 'http-port': 1500 });
    assert.equal(loadConfig({}, { DAO_GATEWAY_CONFIG: file }).httpPort, 1001);
    assert.equal(loadConfig({ config: other }, { DAO_GATEWAY_CONFIG: file }).httpPort, 1500);
  });
  test('a value in the file is validated even when env or a flag overrides it', () => {
    const bad = configFile({ 'http-port': 'x' });
    refuses({ config: bad, 'http-port': '1' }, {}, `config file ${bad}: http-port: "x" is not a whole number`);
  });
  test('a bad env value is refused even when a flag overrides it', () => {
    refuses({ 'http-port': '1' }, { DAO_GATEWAY_HTTP_PORT: 'x' }, 'DAO_GATEWAY_HTTP_PORT: "x" is not a whole number');
  });
  test('config file keys may be GatewayConfig names or flag names; numbers or strings', () => {
    const f = configFile({ httpPort: 81, 'stratum-port': 3334, minDifficulty: 1e-7, 'max-difficulty': '1e9', versionRollingMask: '1fffe000', ledgerSynchronous: 'NORMAL', 'web-root': '' });
    const config = loadConfig({ config: f }, {});
    assert.equal(config.httpPort, 81);
    assert.equal(config.stratumPort, 3334);
    assert.equal(config.minDifficulty, 1e-7);
    assert.equal(config.maxDifficulty, 1e9);
    assert.equal(config.versionRollingMask, 0x1fffe000);
    assert.equal(config.ledgerSynchronous, 'NORMAL');
    assert.equal(config.webRoot, '');
  });
});

describe('every kind of value is validated, naming the setting and its origin', () => {
  // One bad value per setting, with the message its parser gives.
  const BAD: Record<string, [string, string]> = {
    host: ['', 'must not be empty'],
    'http-port': ['x', '"x" is not a whole number'],
    'stratum-port': ['70000', '70000 is outside 0..65535'],
    'data-dir': ['  ', 'must not be empty'],
    source: ['practise', '"practise" is not practice, stratum+tcp://USER:PASS@HOST:PORT or http://USER:PASS@HOST:PORT'],
    'start-difficulty': ['lots', '"lots" is not a positive decimal number'],
    'min-difficulty': ['0', 'must be greater than 0'],
    'max-difficulty': ['-1', '"-1" is not a positive decimal number'],
    'share-interval-ms': ['99', '99 is outside 100..3600000'],
    'version-rolling-mask': ['1fffe00', '"1fffe00" is not 8 hex digits'],
    'stale-grace-ms': ['1.5', '"1.5" is not a whole number'],
    'job-refresh-ms': ['60001', '60001 is outside 1000..60000'],
    'ntime-roll-seconds': ['-1', '"-1" is not a whole number'],
    'max-message-bytes': ['511', '511 is outside 512..1048576'],
    'messages-per-second': ['0', '0 is outside 1..100000'],
    'message-burst': ['1e3', '"1e3" is not a whole number'],
    'idle-timeout-ms': ['999', '999 is outside 1000..86400000'],
    'ws-ping-interval-ms': ['99', '99 is outside 100..600000'],
    'max-connections-per-ip': ['0x10', '"0x10" is not a whole number'],
    'max-invalid-per-minute': ['0', '0 is outside 1..1000000'],
    'ban-seconds': ['86401', '86401 is outside 1..86400'],
    'ban-address-after': ['0', '0 is outside 1..1000000'],
    'ban-exempt': ['10.0.0.0/33', '"10.0.0.0/33": the prefix length of an IPv4 range must be a whole number 0..32'],
    'resume-window-seconds': ['86401', '86401 is outside 0..86400'],
    'resume-holds-per-ip': ['-8', '"-8" is not a whole number'],
    'miner-extranonce2-bytes': ['0', '0 is outside 1..7'],
    'ledger-synchronous': ['full', '"full" is not one of FULL, NORMAL'],
    // The password of a mistyped URL is never repeated.
    ledger: ['mysql://dao:s3cret@db:3306/dao', '"mysql://dao:***@db:3306/dao" is not sqlite or postgres://USER:PASS@HOST:PORT/DB (postgresql:// also works)'],
    'log-level': ['loud', '"loud" is not one of fatal, error, warn, info, debug, trace, silent'],
    'instance-id': ['256', '256 is outside 0..255'],
    'chain-rpc': ['ftp://node:8545', '"ftp://node:8545" is not an http:// or https:// URL'],
    'chain-public-rpc': ['localhost:8545', '"localhost:8545" is not an http:// or https:// URL'],
    'chain-deployment': [' ', 'must not be empty'],
    'publisher-key': ['0x1234', 'not a private key: expected 0x and 64 hex digits (6 characters given; not repeated here)'],
    'relayer-key': ['ab'.repeat(32), 'not a private key: expected 0x and 64 hex digits (64 characters given; not repeated here)'],
    'epoch-seconds': ['9', '9 is outside 10..2592000'],
    'epoch-reward': ['ten', '"ten" is not a token amount: a decimal such as 100 or 12.5'],
    'relay-interval-ms': ['99', '99 is outside 100..3600000'],
    'trusted-proxy': ['10.0.0.300/8', '"10.0.0.300/8" is not a CIDR: expected ADDRESS/PREFIX such as 203.0.113.0/24 or 2001:db8::/32'],
    'http-headers-timeout-ms': ['99', '99 is outside 100..600000'],
    'http-request-timeout-ms': ['1e4', '"1e4" is not a whole number'],
    'http-idle-timeout-ms': ['3600001', '3600001 is outside 100..3600000'],
    'http-keepalive-ms': ['0', '0 is outside 100..600000'],
    'http-connections-per-ip': ['0', '0 is outside 1..1000000'],
    'proxy-header-timeout-ms': ['60001', '60001 is outside 100..60000'],
    'max-identities-per-conn': ['0', '0 is outside 1..10000'],
    'authorizes-per-minute': ['2.5', '"2.5" is not a whole number'],
    'relay-per-member-per-hour': ['0', '0 is outside 1..1000000'],
    'relay-per-ip-per-hour': ['many', '"many" is not a whole number'],
    'relay-min-claim-wei': ['0.5', '"0.5" is not a whole amount in base units (a decimal integer, no sign)'],
    'relay-gas-budget-wei-per-day': ['1e18', '"1e18" is not a whole amount in base units (a decimal integer, no sign)'],
    'suggest-every-seconds': ['86401', '86401 is outside 1..86400'],
    'rows-per-second-per-ip': ['-5', '"-5" is not a whole number'],
  };
  test('the table covers every setting except the free-form web root', () => {
    assert.deepEqual(SETTINGS.map((s) => s.flag).filter((f) => !(f in BAD)), ['web-root']);
  });
  for (const [flag, [value, detail]] of Object.entries(BAD)) {
    test(`${flag} ${JSON.stringify(value)}`, () => {
      refuses({ [flag]: value }, {}, `--${flag}: ${detail}`);
      refuses({}, { [envName(flag)]: value }, `${envName(flag)}: ${detail}`);
      const file = configFile({ [flag]: value });
      refuses({ config: file }, {}, `config file ${file}: ${flag}: ${detail}`);
    });
  }
  test('settlement needs its deployment file and publisher key, and the key is never echoed', () => {
    refuses({ 'chain-rpc': 'http://127.0.0.1:8545' }, {}, 'chain-rpc is set but chain-deployment is not: settlement needs the deployed contract addresses');
    refuses(
      { 'chain-rpc': 'http://127.0.0.1:8545', 'chain-deployment': 'd.json' },
      {},
      'chain-rpc is set but publisher-key is not: settlement needs the key that posts epoch roots',
    );
    const secret = '0x' + '7'.repeat(63) + 'g';
    assert.throws(() => loadConfig({ 'publisher-key': secret }, {}), (err: Error) => !err.message.includes(secret.slice(2, 20)));
    const config = loadConfig({ 'chain-rpc': 'http://127.0.0.1:8545', 'chain-deployment': 'd.json', 'publisher-key': '0x' + 'AB'.repeat(32), 'relayer-key': '0x' + 'CD'.repeat(32), 'epoch-reward': '12.5' }, {});
    assert.equal(config.publisherKey, '0x' + 'ab'.repeat(32));
    assert.equal(config.epochReward, '12.5');
  });
  test('the relayer key must differ from the publisher key, except in local mode', () => {
    const base = { 'chain-rpc': 'http://127.0.0.1:8545', 'chain-deployment': 'd.json', 'publisher-key': '0x' + 'AB'.repeat(32) };
    assert.throws(() => loadConfig(base, {}), /relayer-key is not set \(it would default to publisher-key\): give the relayer its own funded key/);
    assert.throws(() => loadConfig({ ...base, 'relayer-key': '0x' + 'ab'.repeat(32) }, {}), /relayer-key is the same key as publisher-key/);
    assert.equal(loadConfig(base, {}, { local: true }).relayerKey, '');
  });
  test('a credentialed chain-rpc is never published as chain-public-rpc, and there is no default', () => {
    const base = { 'chain-deployment': 'd.json', 'publisher-key': '0x' + 'AB'.repeat(32), 'relayer-key': '0x' + 'CD'.repeat(32) };
    for (const url of ['https://user:pass@rpc.example.com/', 'https://eth-mainnet.g.alchemy.com/v2/aB3dE5gH7jK9mN1pQ3sT5vX7', 'https://rpc.example.com/?apikey=123']) {
      assert.throws(() => loadConfig({ ...base, 'chain-rpc': url, 'chain-public-rpc': url }, {}), /chain-public-rpc is the gateway's own chain-rpc, which carries credentials/, url);
      assert.equal(loadConfig({ ...base, 'chain-rpc': url }, {}).chainPublicRpcUrl, '');
    }
    assert.equal(loadConfig({ ...base, 'chain-rpc': 'http://127.0.0.1:8545', 'chain-public-rpc': 'http://127.0.0.1:8545' }, {}).chainPublicRpcUrl, 'http://127.0.0.1:8545');
  });
  test('relayer limits: defaults, flags and refusals', () => {
    const config = loadConfig({ 'relay-per-member-per-hour': '5', 'relay-min-claim-wei': '1000', 'relay-gas-budget-wei-per-day': '0' }, {});
    assert.equal(config.relayPerMemberPerHour, 5);
    assert.equal(config.relayPerIpPerHour, 120);
    assert.equal(config.relayMinClaimWei, '1000');
    assert.equal(config.relayGasBudgetWeiPerDay, '0');
    refuses({ 'relay-min-claim-wei': '-1' }, {}, '--relay-min-claim-wei: "-1" is not a whole amount in base units (a decimal integer, no sign)');
    refuses({ 'relay-per-ip-per-hour': '0' }, {}, '--relay-per-ip-per-hour: 0 is outside 1..10000000');
  });
  test('the examples of the brief, word for word', () => {
    refuses({ 'http-port': 'x' }, {}, '--http-port: "x" is not a whole number');
    refuses({}, { DAO_GATEWAY_STRATUM_PORT: '70000' }, 'DAO_GATEWAY_STRATUM_PORT: 70000 is outside 0..65535');
    const file = configFile({ 'http-port': 65536 });
    refuses({ config: file }, {}, `config file ${file}: http-port: 65536 is outside 0..65535`);
  });
  test('good values of each kind', () => {
    const config = loadConfig(
      {
        host: '0.0.0.0',
        'http-port': '0',
        'stratum-port': '65535',
        'start-difficulty': '0.001',
        'min-difficulty': '1e-9',
        'max-difficulty': '512',
        'version-rolling-mask': '1FFFE000',
        'ledger-synchronous': 'NORMAL',
        'log-level': 'silent',
        'instance-id': '255',
      },
      { DAO_GATEWAY_DATA_DIR: '/var/lib/dao', DAO_GATEWAY_BAN_SECONDS: ' 60 ' },
    );
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.httpPort, 0);
    assert.equal(config.stratumPort, 65535);
    assert.equal(config.startDifficulty, 0.001);
    assert.equal(config.minDifficulty, 1e-9);
    assert.equal(config.maxDifficulty, 512);
    assert.equal(config.versionRollingMask, 0x1fffe000);
    assert.equal(config.dataDir, '/var/lib/dao');
    assert.equal(config.banSeconds, 60);
    assert.equal(config.instanceId, 255);
  });
  test('a difficulty must be a usable number and leave a target', () => {
    refuses({ 'min-difficulty': '1e-400' }, {}, '--min-difficulty: "1e-400" is out of range');
    refuses({ 'max-difficulty': '1e70' }, {}, /^--max-difficulty: 1e70 is above the largest difficulty/);
    refuses({ 'start-difficulty': '1e401' }, {}, '--start-difficulty: "1e401" is out of range');
  });
  test('min-difficulty above max-difficulty is refused', () => {
    refuses({ 'min-difficulty': '2', 'max-difficulty': '1' }, {}, 'min-difficulty 2 is above max-difficulty 1');
    refuses({ 'min-difficulty': '1e13' }, {}, 'min-difficulty 10000000000000 is above max-difficulty 1000000000000');
    assert.equal(loadConfig({ 'min-difficulty': '1', 'max-difficulty': '1' }, {}).minDifficulty, 1);
  });
  test('the HTTP and Stratum ports must differ (0, a free port each, may repeat)', () => {
    refuses({ 'http-port': '4000', 'stratum-port': '4000' }, {}, 'http-port and stratum-port are both 4000: the two servers need two ports');
    assert.equal(loadConfig({ 'http-port': '0', 'stratum-port': '0' }, {}).stratumPort, 0);
  });
});

describe('--ban-exempt', () => {
  test('IPv4 and IPv6 CIDRs and bare addresses, comma-separated, from a flag, the environment or the file', () => {
    assert.deepEqual(DEFAULT_CONFIG.banExempt, []);
    assert.deepEqual(loadConfig({ 'ban-exempt': '203.0.113.0/24, 2001:db8::/32,,198.51.100.7' }, {}).banExempt, ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
    assert.deepEqual(loadConfig({}, { DAO_GATEWAY_BAN_EXEMPT: '10.0.0.0/8,fd00::/8' }).banExempt, ['10.0.0.0/8', 'fd00::/8']);
    assert.deepEqual(loadConfig({ config: configFile({ banExempt: '10.0.0.0/8' }) }, {}).banExempt, ['10.0.0.0/8']);
    // A list in the file, and a repeated flag (the CLI hands over its values as a list).
    assert.deepEqual(loadConfig({ config: configFile({ 'ban-exempt': ['10.0.0.0/8', '::1/128'] }) }, {}).banExempt, ['10.0.0.0/8', '::1/128']);
    assert.deepEqual(loadConfig({ 'ban-exempt': ['10.0.0.0/8', '192.168.0.0/16,fd00::/8'] } as Record<string, string | string[]>, {}).banExempt, ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8']);
  });
  test('each bad range is refused, saying what is wrong with it', () => {
    const bad: [string, string][] = [
      ['10.0.0/8', '"10.0.0/8" is not a CIDR: expected ADDRESS/PREFIX such as 203.0.113.0/24 or 2001:db8::/32'],
      ['farm.example.com', '"farm.example.com" is not a CIDR: expected ADDRESS/PREFIX such as 203.0.113.0/24 or 2001:db8::/32'],
      ['10.0.0.0/8/8', '"10.0.0.0/8/8" is not a CIDR: expected ADDRESS/PREFIX such as 203.0.113.0/24 or 2001:db8::/32'],
      ['2001:db8::/129', '"2001:db8::/129": the prefix length of an IPv6 range must be a whole number 0..128'],
      ['10.0.0.0/-1', '"10.0.0.0/-1": the prefix length of an IPv4 range must be a whole number 0..32'],
      ['10.0.0.0/', '"10.0.0.0/": the prefix length of an IPv4 range must be a whole number 0..32'],
    ];
    for (const [value, detail] of bad) refuses({ 'ban-exempt': `192.168.0.0/16,${value}` }, {}, `--ban-exempt: ${detail}`);
    const file = configFile({ banExempt: ['10.0.0.0/8', 7] });
    refuses({ config: file }, {}, `config file ${file}: banExempt: expected a string or a number, got an array`);
  });
});

describe('the config file', () => {
  test('an unknown key is refused by name', () => {
    const file = configFile({ 'http-port': 1, htpPort: 2 });
    refuses({ config: file }, {}, `config file ${file}: unknown setting "htpPort"`);
    const nested = configFile({ config: 'other.json' });
    refuses({ config: nested }, {}, `config file ${nested}: unknown setting "config"`);
  });
  test('not found', () => {
    const missing = join(dir, 'missing.json');
    refuses({ config: missing }, {}, `config file ${missing}: not found`);
    refuses({}, { DAO_GATEWAY_CONFIG: missing }, `config file ${missing}: not found`);
  });
  test('an empty --config or DAO_GATEWAY_CONFIG', () => {
    refuses({ config: '' }, {}, '--config: must not be empty');
    refuses({}, { DAO_GATEWAY_CONFIG: '' }, 'DAO_GATEWAY_CONFIG: must not be empty');
  });
  test('a directory', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    refuses({ config: sub }, {}, new RegExp(`^config file ${sub}: EISDIR`));
  });
  test('not JSON: where it stopped, line and column', () => {
    const file = configFile('{\n  "http-port": 1,\n  "host": "a",,\n}');
    refuses({ config: file }, {}, `config file ${file}: not valid JSON (Expected double-quoted property name at line 3 column 15)`);
    const empty = configFile('');
    refuses({ config: empty }, {}, `config file ${empty}: not valid JSON (Unexpected end of JSON input)`);
    const trailing = configFile('{"http-port": 1}}');
    refuses({ config: trailing }, {}, `config file ${trailing}: not valid JSON (Unexpected non-whitespace character after JSON at line 1 column 17)`);
    const words = configFile('http-port = 1');
    refuses({ config: words }, {}, new RegExp(`^config file ${words}: not valid JSON \\(Unexpected token 'h'\\)$`));
  });
  test('not an object', () => {
    for (const content of ['[]', '[{"http-port": 1}]', '1', '"practice"', 'null', 'true']) {
      const file = configFile(content);
      refuses({ config: file }, {}, `config file ${file}: expected a JSON object`);
    }
  });
  test('a value that is neither a string nor a number', () => {
    for (const [value, what] of [[null, 'null'], [true, 'boolean'], [[8080], 'an array'], [{ port: 8080 }, 'object']] as const) {
      const file = configFile({ 'http-port': value });
      refuses({ config: file }, {}, `config file ${file}: http-port: expected a string or a number, got ${what}`);
    }
  });
  test('an empty object is the defaults', () => {
    assert.deepEqual(loadConfig({ config: configFile({}) }, {}), DEFAULT_CONFIG);
  });
});

describe('--source', () => {
  test('practice', () => {
    assert.deepEqual(loadConfig({ source: 'practice' }, {}).source, { kind: 'practice', networkDifficulty: 1 });
    assert.deepEqual(parseSource(' practice\n'), { kind: 'practice', networkDifficulty: 1 });
  });
  test('an upstream Stratum pool', () => {
    const url = 'stratum+tcp://u:p@h:3333';
    assert.deepEqual(loadConfig({ source: url }, {}).source, { kind: 'stratum', url });
    assert.deepEqual(parseSource('stratum+tcp://pool.example.com:3333'), { kind: 'stratum', url: 'stratum+tcp://pool.example.com:3333' });
  });
  test('a node (getblocktemplate) with its payout script', () => {
    const url = 'http://u:p@h:8332';
    assert.deepEqual(loadConfig({ source: url, 'payout-script': PAYOUT.toUpperCase() }, {}).source, { kind: 'gbt', url, payoutScriptHex: PAYOUT });
    assert.equal(parseSource('https://u:p@node.example:8332').kind, 'gbt');
    assert.equal(parseSource('http://[::1]:8332').kind, 'gbt');
  });
  test('a port equal to the scheme default is still a port', () => {
    assert.deepEqual(parseSource('http://u:p@h:80'), { kind: 'gbt', url: 'http://u:p@h:80', payoutScriptHex: '' });
    assert.equal(parseSource('https://u:p@h:443').kind, 'gbt');
  });
  test('a bad scheme', () => {
    refuses({ source: 'ftp://u:p@h:21' }, {}, '--source: the scheme must be stratum+tcp:// or http://, not ftp:');
    refuses({ source: 'stratum+ssl://h:3333' }, {}, '--source: the scheme must be stratum+tcp:// or http://, not stratum+ssl:');
    refuses({ source: 'ws://h' }, {}, '--source: the scheme must be stratum+tcp:// or http://, not ws:');
  });
  test('a URL without a port (or a host)', () => {
    refuses({ source: 'stratum+tcp://u:p@h' }, {}, '--source: "stratum+tcp://u:***@h" needs a host and a port');
    refuses({ source: 'http://h' }, {}, '--source: "http://h" needs a host and a port');
    refuses({ source: 'stratum+tcp:/h:3333' }, {}, '--source: "stratum+tcp:/h:3333" needs a host and a port');
  });
  test('text that is no URL', () => {
    refuses({ source: 'localhost' }, {}, /^--source: "localhost" is not practice, stratum\+tcp:\/\//);
    refuses({ source: 'http://h:port' }, {}, /^--source: not a valid URL \(not repeated here: it may hold a password\); expected practice/);
  });
  test('from the file and the environment, with their origin in errors', () => {
    const file = configFile({ source: 'stratum+tcp://u:p@h:3333' });
    assert.equal(loadConfig({ config: file }, {}).source.kind, 'stratum');
    assert.equal(loadConfig({ config: file }, { DAO_GATEWAY_SOURCE: 'practice' }).source.kind, 'practice');
    refuses({}, { DAO_GATEWAY_SOURCE: 'ftp://h:1' }, 'DAO_GATEWAY_SOURCE: the scheme must be stratum+tcp:// or http://, not ftp:');
  });
});

describe('--payout-script', () => {
  const node = 'http://u:p@h:8332';
  test('a node source without one is refused, saying what to give', () => {
    const message = refuses({ source: node }, {}, /^--payout-script is required with a node source/);
    assert.match(message, /scriptPubKey/);
    assert.match(message, /hex/);
    assert.match(message, /--payout-script HEX/);
    assert.match(message, /DAO_GATEWAY_PAYOUT_SCRIPT/);
    assert.match(message, /payoutScript/);
    refuses({}, { DAO_GATEWAY_SOURCE: node }, /^--payout-script is required with a node source/);
  });
  test('from the file (either name), the environment and the flag, in that order', () => {
    const a = 'aa'.repeat(22);
    const b = 'bb'.repeat(22);
    const c = 'cc'.repeat(22);
    const camel = configFile({ source: node, payoutScript: a });
    const dashed = configFile({ source: node, 'payout-script': a });
    const hex = (flags: Flags, env: NodeJS.ProcessEnv) => {
      const source = loadConfig(flags, env).source;
      assert.equal(source.kind, 'gbt');
      return source.kind === 'gbt' ? source.payoutScriptHex : '';
    };
    assert.equal(hex({ config: camel }, {}), a);
    assert.equal(hex({ config: dashed }, {}), a);
    assert.equal(hex({ config: camel }, { DAO_GATEWAY_PAYOUT_SCRIPT: b }), b);
    assert.equal(hex({ config: camel, 'payout-script': c }, { DAO_GATEWAY_PAYOUT_SCRIPT: b }), c);
    assert.equal(hex({ source: node }, { DAO_GATEWAY_PAYOUT_SCRIPT: ` ${b.toUpperCase()}\n` }), b);
  });
  test('not hex is refused with its origin, whatever the source', () => {
    refuses({ source: node, 'payout-script': 'abc' }, {}, '--payout-script: "abc" is not a scriptPubKey in hex (an even number of hex digits, 1 to 10000 bytes)');
    refuses({ 'payout-script': 'zz' }, {}, /^--payout-script: "zz" is not a scriptPubKey in hex/);
    refuses({ source: node }, { DAO_GATEWAY_PAYOUT_SCRIPT: '' }, /^DAO_GATEWAY_PAYOUT_SCRIPT: "" is not a scriptPubKey in hex/);
    const file = configFile({ source: node, payoutScript: 'xyz' });
    refuses({ config: file }, {}, new RegExp(`^config file ${file}: payoutScript: "xyz" is not a scriptPubKey in hex`));
    const number = configFile({ source: node, payoutScript: 14 });
    refuses({ config: number }, {}, `config file ${number}: payoutScript: expected a hex string, got 14`);
  });
  test('a practice or Stratum source ignores a good one', () => {
    assert.deepEqual(loadConfig({ 'payout-script': PAYOUT }, {}).source, { kind: 'practice', networkDifficulty: 1 });
  });
});

describe('the password of a source URL', () => {
  test('redact() hides it and keeps the rest', () => {
    assert.equal(redact('stratum+tcp://u:p@h:3333'), 'stratum+tcp://u:***@h:3333');
    assert.equal(redact('http://user:pass@node:8332/wallet/w'), 'http://user:***@node:8332/wallet/w');
    assert.equal(redact('http://node:8332'), 'http://node:8332');
    assert.equal(redact('http://user@node:8332'), 'http://user@node:8332');
    assert.equal(redact('practice chain (no real coin is mined)'), 'practice chain (no real coin is mined)');
    // The user information ends at the last "@" of the authority, as the URL parser reads it.
    assert.equal(redact('http://u:p@ss@h:8332'), 'http://u:***@h:8332');
    assert.equal(redact('http://a@b:s3cr3t@h:8332'), 'http://a@b:***@h:8332');
    assert.equal(redact('http://u::s3cr3t@h:8332'), 'http://u:***@h:8332');
    assert.equal(redact('http://h:8332/a@b'), 'http://h:8332/a@b');
    // Text the parser refuses (a "/" in the password): up to the last "@".
    assert.equal(redact('stratum+tcp://u:s3/cr3t@h:3333'), 'stratum+tcp://u:***@h:3333');
    // No "//" at all.
    assert.equal(redact('u:s3cr3t@h:3333'), 'u:***@h:3333');
  });

  // Bad configurations whose source holds the password "s3cr3t".
  const cases: [string, Flags, NodeJS.ProcessEnv][] = [
    ['no port', { source: 'stratum+tcp://u:s3cr3t@h' }, {}],
    ['no port, http', { source: 'http://u:s3cr3t@h' }, {}],
    ['a bad scheme', { source: 'ftp://u:s3cr3t@h:21' }, {}],
    ['no scheme', { source: 'u:s3cr3t@h:3333' }, {}],
    ['"/" in the password', { source: 'stratum+tcp://u:s3cr3t/x@h:3333' }, {}],
    ['"@" in the password', { source: 'http://u:s3cr3t@x@h' }, {}],
    ['"@" in the user', { source: 'http://a@b:s3cr3t@h' }, {}],
    ['a bad port', { source: 'stratum+tcp://u:s3cr3t@h:33x' }, {}],
    ['user and password, no host', { source: 'http://u:s3cr3t' }, {}],
    ['a space', { source: 'http://u:s3cr3t @h:8332' }, {}],
    ['no payout script', { source: 'http://u:s3cr3t@h:8332' }, {}],
    ['from the environment', {}, { DAO_GATEWAY_SOURCE: 'http://u:s3cr3t@h' }],
  ];
  for (const [name, flags, env] of cases) {
    test(`is in no error message: ${name}`, () => {
      const message = refuses(flags, env, /./);
      assert.ok(!message.includes('s3cr3t'), message);
    });
  }
  test('is in no error message about a config file', () => {
    const contents: unknown[] = [
      { source: 'http://u:s3cr3t@h' },
      { source: { url: 'http://u:s3cr3t@h:8332' } },
      { source: ['http://u:s3cr3t@h:8332'] },
      // Not JSON: V8 quotes the text around the error in some messages.
      '{"source": http://u:s3cr3t@h:8332}',
      '{"source": "http://u:s3cr3t@h:8332" x}',
      '{"source": "http://u:s3cr3t@h:8332", "a": x}',
      '{"http-port": 1, "source": "http://u:s3cr3t@h:8332", "host": tru}',
      '{"source": "http://u:s3cr3t@h:8332"}}',
    ];
    for (const content of contents) {
      const message = refuses({ config: configFile(content) }, {}, /^config file /);
      assert.ok(!message.includes('s3cr3t'), message);
      // Not even the start of it (V8's excerpt of the text around a JSON error).
      assert.ok(!message.includes('u:s'), message);
    }
  });
});

test('a loaded config is a GatewayConfig with every key', () => {
  const config: GatewayConfig = loadConfig({ 'http-port': '0' }, {});
  assert.deepEqual(Object.keys(config).sort(), Object.keys(DEFAULT_CONFIG).sort());
});
