// The layering checks that `npm test` runs before the tests (`npm run typecheck`, `npm run
// lint:layers`), shown able to fail: each is run on a fixture that breaks it, then the real tree
// is shown to pass the import rules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/layering/', import.meta.url));
const DEPCRUISE = fileURLToPath(new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));
const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
const CONFIG = fileURLToPath(new URL('../.dependency-cruiser.cjs', import.meta.url));
const TREE_FOLDERS = ['protocol', 'web', 'server', 'cli', 'bin', 'scripts', 'test'];

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: r.stdout + r.stderr };
}

function cruiseFixture(outputType: 'err' | 'json') {
  return run(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', outputType, ...TREE_FOLDERS], `${FIXTURES}tree`);
}

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: { name: string }[];
}

describe('npm run lint:layers', () => {
  test('reports every wrong-way import and the cycle in the fixture tree, and nothing else', () => {
    const { output } = cruiseFixture('json');
    const violations = (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
    assert.ok(violations.every((v) => v.rule.severity === 'error'));
    const edges = violations.map((v) => {
      // A cycle is reported once, from whichever member the walk met first: named by its members.
      if (v.cycle) return `${v.rule.name}: ${[...new Set([v.from, ...v.cycle.map((step) => step.name)])].sort().join(' ⇄ ')}`;
      // A package is named by its folder under node_modules, wherever that lies.
      return `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\/([^/]+)\/.*$/, 'npm:$1')}`;
    });
    assert.deepEqual(edges.sort(), [
      'no-circular: server/cycle-a.ts ⇄ server/cycle-b.ts',
      'not-to-unresolvable: web/page.ts → ./missing.js',
      'only-entry-points-import-cli: server/wrong-way.ts → cli/main.ts',
      'only-tests-import-scripts: server/wrong-way.ts → scripts/bench.ts',
      'only-tests-import-tests: server/wrong-way.ts → test/helper.ts',
      'protocol-imports-only-protocol: protocol/impure.ts → server/store.ts',
      'protocol-no-node-builtins: protocol/impure.ts → fs',
      'protocol-npm-allow-list: protocol/impure.ts → npm:ethers',
      'server-not-to-web: server/wrong-way.ts → web/page.ts',
      'web-not-to-server: web/page.ts → server/store.ts',
    ]);
  });

  test('fails (the exit status npm test stops on) with a message naming the rule and the edge', () => {
    const { status, output } = cruiseFixture('err');
    assert.notEqual(status, 0, output);
    assert.match(output, /error web-not-to-server: web\/page\.ts → server\/store\.ts/);
    assert.match(output, /error no-circular: server\/cycle-[ab]\.ts → \s+server\/cycle-[ab]\.ts →/);
  });

  test('finds no violation in the real tree', () => {
    const { status, output } = run('npm', ['run', '--silent', 'lint:layers'], ROOT);
    assert.equal(status, 0, output);
    assert.match(output, /no dependency violations found/);
  });
});

describe('npm run typecheck', () => {
  test('protocol/tsconfig.json rejects Node and browser globals, with all of protocol/ in the program', () => {
    const { status, output } = run(process.execPath, [TSC, '-p', `${FIXTURES}protocol-globals`], ROOT);
    assert.notEqual(status, 0);
    for (const name of ['Buffer', 'process', 'setTimeout', 'TextEncoder', 'crypto', 'window', 'document']) {
      assert.match(output, new RegExp(`protocol-globals\\.ts.*Cannot find name '${name}'`), name);
    }
    // Only the probe fails: protocol/ itself compiles under the same settings.
    assert.doesNotMatch(output, /^protocol\//m);
  });

  test('server/tsconfig.json rejects browser globals', () => {
    const { status, output } = run(process.execPath, [TSC, '-p', `${FIXTURES}server-globals`], ROOT);
    assert.notEqual(status, 0);
    for (const name of ['window', 'document', 'navigator', 'localStorage']) {
      assert.match(output, new RegExp(`server-globals\\.ts.*Cannot find name '${name}'`), name);
    }
  });
});
