// The operators' dashboard and alert rules (ops/) query only metrics the gateway exposes, and the
// metrics behind them move: a real settling gateway, real miners over TCP and WebSocket, a refused
// duplicate share, an epoch closed and published.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestChain, type TestChain } from './helpers/chain.js';
import { MEMBER, MEMBER_2, startSettlingGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

/** Series Prometheus adds itself when it scrapes; no gateway exposes them. */
const SCRAPE_SERIES = new Set(['up']);

/** Every metric name a PromQL expression names: our prefixes, plus the scrape series. */
function metricNames(expr: string): string[] {
  const names = [...expr.matchAll(/\b(dao_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
  return [...new Set([...names, ...[...SCRAPE_SERIES].filter((s) => new RegExp(`\\b${s}\\{`).test(expr))])];
}

/** Sample name -> the samples' lines, from Prometheus text. */
function samples(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    byName.set(name, [...(byName.get(name) ?? []), line]);
  }
  return byName;
}

function value(lines: string[] | undefined, labels = ''): number {
  const line = lines?.find((l) => l.includes(labels));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const dashboard = JSON.parse(readFileSync(new URL('../ops/grafana-dashboard.json', import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
// JSON is YAML: the rules file is JSON under '#' comment lines, so no YAML parser is needed.
const alertsText = readFileSync(new URL('../ops/prometheus-alerts.yml', import.meta.url), 'utf8');
const alerts = JSON.parse(alertsText.replace(/^#.*$/gm, '')) as { groups: { rules: { alert: string; expr: string; for: string }[] }[] };

describe('operator metrics, dashboard and alerts', () => {
  let chain: TestChain;
  let gateway: Awaited<ReturnType<typeof startSettlingGateway>>;
  let text: string;

  before(async () => {
    chain = await startTestChain();
    gateway = await startSettlingGateway(chain);
    const tcp = await TestMiner.tcp(gateway.stratumPort);
    const ws = await TestMiner.ws(gateway.httpUrl);
    try {
      await tcp.login(`${MEMBER}.tcp`);
      await ws.login(`${MEMBER_2}.ws`);
      const share = await tcp.findShare({ worker: `${MEMBER}.tcp`, extranonce2: '00000001' });
      assert.equal((await tcp.submit(share.params)).result, true);
      const again = await tcp.submit(share.params);
      assert.notEqual(again.result, true, 'the same share twice is refused');
      const wsShare = await ws.findShare({ worker: `${MEMBER_2}.ws`, extranonce2: '00000001' });
      assert.equal((await ws.submit(wsShare.params)).result, true);
      const settlement = gateway.view.settlement!;
      assert.equal((await settlement.closeEpoch())?.epoch, 1);
      await waitFor('epoch 1 published', async () => (await settlement.store.epoch(1))?.status === 'published', 20_000);
      // Scraped while both miners are connected.
      text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
    } finally {
      tcp.close();
      ws.close();
    }
  });

  after(async () => {
    await gateway?.close();
    await chain?.stop();
  });

  test('every metric a dashboard panel or an alert queries is exposed', () => {
    const exposed = samples(text);
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ];
    assert.ok(dashboard.panels.length >= 10 && alerts.groups[0]!.rules.length >= 8, 'the dashboard and the rules are not empty');
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where} queries no metric: ${expr}`);
      for (const name of names) if (!SCRAPE_SERIES.has(name)) assert.ok(exposed.has(name), `${where} queries ${name}, which /metrics does not expose`);
    }
  });

  test('the new metrics move with what happened', () => {
    const exposed = samples(text);
    assert.equal(value(exposed.get('dao_gateway_shares_rejected_total'), 'reason="duplicate share"'), 1, 'the duplicate is counted under its reason');
    assert.equal(value(exposed.get('dao_gateway_connections_by_transport'), 'transport="tcp"'), 1);
    assert.equal(value(exposed.get('dao_gateway_connections_by_transport'), 'transport="ws"'), 1);
    assert.ok(value(exposed.get('dao_gateway_ledger_commit_seconds_count')) >= 2, 'each commit records its latency');
    assert.ok(value(exposed.get('dao_gateway_ledger_commit_seconds_sum')) > 0);
    assert.ok(value(exposed.get('dao_gateway_ledger_commit_batch_size_count')) >= 2);
    assert.equal(value(exposed.get('dao_gateway_share_ack_seconds_count')), 2, 'each accepted share records its ack latency');
    assert.ok(value(exposed.get('dao_gateway_vardiff_difficulty_count')) >= 2, 'the difficulty sent to each miner is observed');
    assert.equal(value(exposed.get('dao_gateway_vardiff_difficulty_bucket'), 'le="+Inf"'), value(exposed.get('dao_gateway_vardiff_difficulty_count')));
    assert.equal(value(exposed.get('dao_gateway_epochs_closed_total')), 1);
    assert.equal(value(exposed.get('dao_gateway_last_closed_epoch')), 1);
    assert.equal(value(exposed.get('dao_gateway_epochs_published_total')), 1);
    assert.equal(value(exposed.get('dao_gateway_last_published_epoch')), 1);
    assert.equal(value(exposed.get('dao_gateway_epoch_close_seconds_count')), 1);
    assert.equal(value(exposed.get('dao_gateway_epoch_close_failures_total')), 0);
    assert.equal(value(exposed.get('dao_gateway_relay_queue_depth'), 'kind="claim",status="queued"'), 0);
    assert.equal(value(exposed.get('dao_gateway_health_problems')), 0);
    assert.equal(value(exposed.get('dao_limit_hits_total'), 'limit="row_budget"'), 0, 'known limits start at 0');
  });
});
