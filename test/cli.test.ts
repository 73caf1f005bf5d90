// The dao-miner CLI as a user runs it: the built bin/dao-miner.mjs in a child process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadVectors } from './helpers/vectors.js';

const BIN = fileURLToPath(new URL('../bin/dao-miner.mjs', import.meta.url));
const vectors = loadVectors();
const genesis = vectors.block_headers.find((b) => b.name === 'genesis')!;
const DIFF1 = '00000000ffff0000000000000000000000000000000000000000000000000000';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

function expectUsageError(args: string[], message: RegExp) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 2, `exit status for ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace: ${r.stderr}`);
  assert.match(lines[0]!, /^dao-miner: /);
  assert.match(lines[0]!, message);
}

describe('dao-miner hash', () => {
  for (const block of vectors.block_headers) {
    test(`prints the hash of ${block.name}`, () => {
      const r = spawnSync(process.execPath, [BIN, 'hash', '--header', block.header_hex], { encoding: 'utf8' });
      assert.equal(r.status, 0);
      assert.equal(r.stdout, block.expected.hash + '\n');
    });
  }
});

describe('dao-miner scan', () => {
  for (const engine of ['wasm', 'wasm-simd']) {
    for (const threads of ['1', '2']) {
      test(`${engine} on ${threads} thread(s) finds the genesis nonce`, () => {
        const r = run('scan', '--header', genesis.header_hex, '--target', DIFF1, '--start', String(genesis.nonce - 5000), '--count', '10000', '--engine', engine, '--threads', threads);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.lines.slice(0, -1), [{ nonce: genesis.nonce, hash: genesis.expected.hash }]);
        const summary = r.lines.at(-1);
        assert.equal(summary.scanned, 10000);
        assert.equal(summary.engine, engine);
        assert.ok(summary.seconds > 0 && summary.hashesPerSecond > 0);
      });
    }
  }
  test('ignores the nonce in the given header and wraps at 2^32', () => {
    // A target so loose that every nonce meets it: the output lists the nonces in scan order.
    const r = run('scan', '--header', genesis.header_hex, '--target', 'f'.repeat(64), '--start', '4294967294', '--count', '4');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.lines.slice(0, -1).map((l) => l.nonce), [4294967294, 4294967295, 0, 1]);
  });
  test('webgpu finds the genesis nonce', () => {
    const r = run('scan', '--header', genesis.header_hex, '--target', DIFF1, '--start', String(genesis.nonce - 3000), '--count', '6000', '--engine', 'webgpu');
    assert.equal(r.status, 0, `webgpu scan failed: ${r.stderr}`);
    assert.deepEqual(r.lines.slice(0, -1), [{ nonce: genesis.nonce, hash: genesis.expected.hash }]);
    assert.equal(r.lines.at(-1).engine, 'webgpu');
  });
  test('bad input is one line and exit status 2', () => {
    expectUsageError(['scan', '--target', DIFF1], /--header is required/);
    expectUsageError(['scan', '--header', genesis.header_hex], /--target is required/);
    expectUsageError(['scan', '--header', genesis.header_hex.slice(2), '--target', DIFF1], /--header: expected 80 bytes/);
    expectUsageError(['scan', '--header', 'zz' + genesis.header_hex.slice(2), '--target', DIFF1], /--header: not valid hex/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1 + '00'], /--target: expected 32 bytes/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--engine', 'cuda'], /--engine: unknown engine "cuda"/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--count', '-5'], /--count: a value starting with "-"/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--count=-5'], /--count: "-5" is not a non-negative integer/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--start', '4294967296'], /--start: 4294967296 is outside/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--threads', '0'], /--threads: 0 is outside/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--target', DIFF1, '--engine', 'webgpu', '--threads', '2'], /--threads: the webgpu engine runs on one GPU/);
    expectUsageError(['scan', '--header', genesis.header_hex, '--bogus', '1'], /Unknown option '--bogus'/);
  });
});

describe('dao-miner share', () => {
  const example = vectors.stratum_examples[0]!;
  const notify = JSON.stringify(example.messages.notify.params);
  const submit = JSON.stringify(example.messages.submit.params);
  test('verifies a version-rolled share from the wire', () => {
    const r = run('share', '--notify', notify, '--extranonce1', example.extranonce1, '--submit', submit, '--version-mask', example.version_mask!, '--difficulty', String(example.pool_difficulty));
    assert.equal(r.status, 0, r.stderr);
    const [out] = r.lines;
    assert.equal(out.header, example.expected.header_hex);
    assert.equal(out.hash, example.expected.hash);
    assert.ok(Math.abs(out.shareDifficulty - Number(example.expected.share_difficulty)) < 1e-9);
    assert.equal(out.meetsDifficulty, true);
  });
  test('accepts whole JSON-RPC messages and reports a share below the difficulty', () => {
    const r = run('share', '--notify', JSON.stringify(example.messages.notify), '--extranonce1', example.extranonce1, '--submit', JSON.stringify(example.messages.submit), '--difficulty', '1000');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines[0].meetsDifficulty, false);
  });
  test('every example without version rolling', () => {
    const slush = vectors.stratum_examples.find((e) => e.id === 'slush-stratum-docs-2012')!;
    const r = run('share', '--notify', JSON.stringify(slush.messages.notify.params), '--extranonce1', slush.extranonce1, '--submit', JSON.stringify(slush.messages.submit.params));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines[0].hash, slush.expected.hash);
    assert.equal(r.lines[0].meetsDifficulty, true);
  });
  test('bad input is one line and exit status 2', () => {
    const base = ['--extranonce1', example.extranonce1, '--submit', submit];
    expectUsageError(['share', '--notify', '{bad', ...base], /--notify: not valid JSON/);
    expectUsageError(['share', '--notify', '[1,2]', ...base], /--notify: expected 9 params/);
    expectUsageError(['share', '--notify', notify, '--extranonce1', 'abc', '--submit', submit], /--extranonce1: hex has an odd number of digits/);
    expectUsageError(['share', '--notify', notify, '--extranonce1', example.extranonce1, '--submit', '["w"]'], /--submit: expected 5 or 6 params/);
    expectUsageError(['share', '--notify', notify, ...base, '--version-mask', '0'], /--version-mask: hex has an odd number of digits/);
    expectUsageError(['share', '--notify', notify, ...base, '--version-mask', '00000000'], /version_bits: 00002000 sets bits outside the negotiated mask/);
    expectUsageError(['share', '--notify', notify, ...base, '--difficulty', 'lots'], /--difficulty: "lots" is not a positive decimal number/);
    expectUsageError(['share', ...base], /--notify is required/);
  });
});

describe('dao-miner itself', () => {
  test('an unknown command is a usage error', () => expectUsageError(['frob'], /unknown command "frob"/));
  test('--help prints the usage', () => {
    const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /dao-miner <command>/);
  });
  test('bench --json prints figures for the engines and the peers', () => {
    const r = spawnSync(process.execPath, [BIN, 'bench', '--engine', 'wasm-simd', '--seconds', '1', '--threads', '2', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const rows = report.rows.filter((row: { name: string }) => row.name === 'wasm-simd');
    assert.deepEqual(rows.map((row: { threads: number }) => row.threads), [1, 2]);
    for (const row of rows) assert.ok(row.hashesPerSecond > 10_000, `a real rate: ${row.hashesPerSecond}`);
  });
});
