// The public pool page: the pool's hash rate and shares over the last 24 hours, who is connected,
// the epochs with their roots, work, rewards and transactions, blocks found, the work source, and
// the member's own work and reward per epoch. Figures first, charts once uPlot's chunk arrives.
import { html, nothing, render, type TemplateResult } from 'lit';
import type { EpochsResponse, HistoryResponse, MemberLeaf, StatsResponse } from '../../protocol/api.js';
import { fetchChainStatus, fetchEpochs, fetchHistory, fetchMemberLeaves, fetchStats, GatewayError } from '../chain/gateway-api.js';
import type { ChainStatus } from '../chain/chain-config.js';
import { formatDuration, formatToken } from '../app/chain-format.js';
import { formatRate, formatWork } from '../app/units.js';
import type { ChartSpec } from './pool-charts.js';

const REFRESH_MS = 30_000;

interface PoolData {
  stats: StatsResponse;
  history: HistoryResponse;
  /** Or why there are none (a gateway that settles on no chain answers 503). */
  epochs: EpochsResponse | string;
  chain: ChainStatus;
  member: { address: string; leaves: MemberLeaf[] | string } | undefined;
}

/** ?member=0x... or the identity this browser's app stored (read only: none is created here). */
async function memberAddress(): Promise<string | undefined> {
  const given = new URLSearchParams(location.search).get('member');
  if (given) return given;
  const { openMemberStore } = await import('../store/member-store.js');
  const store = await openMemberStore();
  try {
    return (await store.getIdentity())?.address;
  } finally {
    store.close();
  }
}

function reason(err: unknown): string {
  return err instanceof GatewayError || err instanceof Error ? err.message : String(err);
}

async function load(address: string | undefined): Promise<PoolData> {
  const [stats, history, epochs, chain, leaves] = await Promise.all([
    fetchStats(),
    fetchHistory(24),
    fetchEpochs().catch(reason),
    fetchChainStatus(),
    address ? fetchMemberLeaves(address).catch(reason) : undefined,
  ]);
  return { stats, history, epochs, chain, member: address && leaves !== undefined ? { address, leaves } : undefined };
}

function token(chain: ChainStatus, amount: bigint): string {
  return chain.enabled ? formatToken(amount, chain.config.token.decimals, chain.config.token.symbol) : amount.toString();
}

function closesText(epochs: EpochsResponse): string {
  const { current } = epochs;
  const at = `${new Date(current.endsAtMs).toLocaleString()} (in ${formatDuration(Math.max(0, (current.endsAtMs - Date.now()) / 1000))})`;
  // Empty epochs do not close: without pending work the boundary passes and the epoch stays open.
  return current.pendingWork ? `closes ${at}` : `closes ${at} if any share comes in (no share yet: an epoch without work does not close)`;
}

function poolSection(d: PoolData): TemplateResult {
  const { stats } = d;
  const source = stats.workSource;
  return html`<section>
    <h2>Now</h2>
    <dl>
      <dt>Hash rate, last 5 minutes</dt><dd data-pool-rate-5m=${stats.hashesPerSecond5m}>${formatRate(stats.hashesPerSecond5m)}</dd>
      <dt>Hash rate, last hour</dt><dd>${formatRate(stats.hashesPerSecond1h)}</dd>
      <dt>Connected miners</dt><dd data-miners=${stats.miners}>${stats.miners} (${stats.workers} workers, ${stats.connections} connections)</dd>
      <dt>Work source</dt><dd>${source.label} ${source.practice ? html`<span class="practice">practice: no real coin</span>` : nothing} ${source.connected ? '' : '(disconnected)'}</dd>
      <dt>Shares accepted</dt><dd>${stats.totals.shares.toLocaleString()} (${formatWork(stats.totals.work)} of work, ${stats.totals.members} members)</dd>
      <dt>Blocks found</dt><dd data-blocks=${stats.totals.blocks}>${stats.totals.blocks === 0 ? 'none found (the ledger records every block a share solves)' : stats.totals.blocks}</dd>
    </dl>
  </section>`;
}

function historySection(d: PoolData): TemplateResult {
  const minutes = d.history.bucketMs / 60_000;
  return html`<section>
    <h2>The last ${d.history.hours} hours</h2>
    <p class="note">Accepted shares in ${minutes}-minute buckets, from the ledger (every gateway of the pool); the last bucket is still filling.</p>
    <div class="chart" data-chart="pool-rate"></div>
    <div class="chart" data-chart="pool-shares"></div>
  </section>`;
}

function epochsSection(d: PoolData): TemplateResult {
  if (typeof d.epochs === 'string') return html`<section><h2>Epochs</h2><p class="note" data-epochs-unavailable>${d.epochs}</p></section>`;
  const { epochs, current } = d.epochs;
  return html`<section>
    <h2>Epochs</h2>
    <p data-current-epoch=${current.epoch}>Epoch ${current.epoch} is open: ${closesText(d.epochs)}.</p>
    ${epochs.length === 0
      ? html`<p class="note">No epoch closed yet.</p>`
      : html`<table data-epochs>
          <thead><tr><th>Epoch</th><th>Root</th><th>Work</th><th>Total work</th><th>Reward</th><th>Status</th><th>Transaction</th></tr></thead>
          <tbody>
            ${epochs.map(
              (e) => html`<tr>
                <td>${e.epoch}</td><td class="hash" title=${e.root}>${e.root}</td><td>${formatWork(e.epochWork.toString())}</td><td>${formatWork(e.totalWork.toString())}</td>
                <td>${token(d.chain, e.reward)}</td><td>${e.vetoed ? 'vetoed' : e.status}</td><td class="hash" title=${e.txHash ?? ''}>${e.txHash ?? '—'}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
  </section>`;
}

function memberSection(d: PoolData): TemplateResult {
  if (!d.member) return html`<section><h2>Your history</h2><p class="note">No member identity in this browser: start contributing on the <a href="./">app</a>, or add ?member=0x… to this page's address.</p></section>`;
  const { address, leaves } = d.member;
  return html`<section>
    <h2>Your history</h2>
    <p class="note">Work and reward per closed epoch of ${address}.</p>
    ${typeof leaves === 'string'
      ? html`<p class="note">${leaves}</p>`
      : leaves.length === 0
        ? html`<p class="note" data-member-empty>No epoch has closed over your work yet.</p>`
        : html`<div class="chart" data-chart="member-work"></div>
            <div class="chart" data-chart="member-reward"></div>`}
  </section>`;
}

/** What the charts draw: the pool's 5-minute buckets, and the member's epochs oldest first. */
function chartSpecs(d: PoolData): Map<string, ChartSpec> {
  const seconds = d.history.bucketMs / 1000;
  const xs = d.history.buckets.map((b) => b.startMs / 1000);
  const specs = new Map<string, ChartSpec>([
    ['pool-rate', { xs, time: true, series: [{ label: 'pool hash rate', values: d.history.buckets.map((b) => b.work / seconds), format: formatRate, color: '#27c' }] }],
    ['pool-shares', { xs, time: true, series: [{ label: 'shares per second', values: d.history.buckets.map((b) => b.shares / seconds), format: (v) => (v >= 10 ? v.toFixed(0) : v.toPrecision(2)), color: '#c72' }] }],
  ]);
  const leaves = d.member && typeof d.member.leaves !== 'string' ? [...d.member.leaves].reverse() : [];
  if (leaves.length > 0) {
    const decimals = d.chain.enabled ? d.chain.config.token.decimals : 0;
    const symbol = d.chain.enabled ? d.chain.config.token.symbol : 'base units';
    const xs = leaves.map((l) => l.epoch);
    // Two charts: with one member the reward follows the work, and two lines on one chart would overlap.
    specs.set('member-work', { xs, time: false, series: [{ label: 'your work', values: leaves.map((l) => Number(l.epochWork)), format: formatWork, color: '#27c' }] });
    // A float for the chart only: the exact amount is in the epoch's leaf.
    specs.set('member-reward', { xs, time: false, series: [{ label: `your reward (${symbol})`, values: leaves.map((l) => Number(l.epochReward) / 10 ** decimals), format: (v) => v.toPrecision(3), color: '#2a5' }] });
  }
  return specs;
}

async function drawCharts(root: HTMLElement, d: PoolData): Promise<void> {
  const { drawChart } = await import('./pool-charts.js');
  for (const [name, spec] of chartSpecs(d)) {
    const host = root.querySelector<HTMLElement>(`[data-chart="${name}"]`);
    if (!host) continue;
    drawChart(host, spec);
    // For whoever checks the page (and the browser test): how many points carry data.
    host.dataset.points = String(spec.xs.length);
    host.dataset.nonzero = String(spec.series[0]!.values.filter((v) => v > 0).length);
  }
}

async function main(): Promise<void> {
  const root = document.getElementById('pool')!;
  root.replaceChildren(); // the "Loading" line: lit renders after what is there
  const address = await memberAddress().catch(() => undefined);
  const refresh = async (): Promise<void> => {
    try {
      const data = await load(address);
      render(html`${poolSection(data)}${historySection(data)}${epochsSection(data)}${memberSection(data)}`, root);
      await drawCharts(root, data);
      root.dataset.loadedAtMs = String(Date.now());
    } catch (err) {
      render(html`<p class="error" data-load-error>The pool's figures could not be read: ${reason(err)}</p>`, root);
    }
  };
  await refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

void main();
