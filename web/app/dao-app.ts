import { LitElement, css, html } from 'lit';
import type { WorkSourceInfo } from '../../protocol/api.js';
import { fetchPoolCredit, fetchStats, type PoolCredit } from '../chain/gateway-api.js';
import { openMemberStore, type MemberStore } from '../store/member-store.js';
import type { Consent, MinerSettings } from '../store/schema.js';
import { reportedCores } from '../store/settings.js';
import './chain-section.js';
import './consent-panel.js';
import { isMobileDevice } from './mobile.js';
import './identity-panel.js';
import './hashrate-chart.js';
import './miner-controls.js';
import { countOf, formatRate, formatWork } from './units.js';
import { shareDifference } from './figure-reasons.js';
import { RATE_WINDOW_S } from '../miner/miner.js';
import { ContributorSession, type ContributorStats } from '../contributor/session.js';
import { addRatePoint, type RatePoint } from './rate-history.js';
import { warmUpKeyDerivation } from '../store/identity.js';

/** The session's settings from the member's stored ones. */
function sessionSettings(settings: MinerSettings) {
  const { cpuPercent, threads, useGpu, pauseWhenHidden, pauseOnBattery } = settings;
  return { cpuCeiling: cpuPercent, threads, useGpu, pauseWhenHidden, pauseOnBattery };
}

/** The page: what this is, the consent gate, the controls and the figures. A view of the ContributorSession. */
export class DaoApp extends LitElement {
  static override properties = {
    snapshot: { state: true },
    history: { state: true },
    consent: { state: true },
    address: { state: true },
    workSource: { state: true },
    credit: { state: true },
    loadError: { state: true },
    mobileOptIn: { state: true },
  };
  snapshot: ContributorStats | undefined;
  /** The hash rate once a second over the last minute. */
  history: RatePoint[] = [];
  consent: Consent | undefined;
  address: string | undefined;
  workSource: WorkSourceInfo | undefined;
  credit: PoolCredit | undefined;
  loadError: string | undefined;
  /** The phone opt-in checkbox, ticked (stored in the consent at the next Start). */
  mobileOptIn = false;
  private readonly mobile = isMobileDevice();
  private store: MemberStore | undefined;
  private session: ContributorSession | undefined;
  private creditTimer: ReturnType<typeof setInterval> | undefined;

  static override styles = css`
    :host { display: block; }
    section { margin: 1.25rem 0; }
    h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
    dt { color: #777; }
    dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
    .practice { display: inline-block; padding: 0 0.4rem; border-radius: 0.25rem; background: #fd4; color: #000; }
    .real { display: inline-block; padding: 0 0.4rem; border-radius: 0.25rem; background: #4c4; color: #000; }
    .error { color: #c22; }
    @media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dt { margin-top: 0.4rem; } }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.creditTimer);
    void this.session?.stop();
  }

  private async load(): Promise<void> {
    try {
      const store = (this.store = await openMemberStore(undefined, { onVersionChange: () => (this.loadError = 'the local database was upgraded in another tab: reload this page') }));
      const session = (this.session = new ContributorSession({
        address: async () => (await store.getOrCreateIdentity()).address,
        storage: 'indexeddb',
        store,
        ...sessionSettings(await store.getSettings()),
      }));
      session.on('stats', (stats) => {
        this.snapshot = stats;
        if (stats.state === 'mining') this.history = addRatePoint(this.history, Date.now(), stats.hashesPerSecond);
      });
      this.address = (await store.getIdentity())?.address;
      // Every local figure is the current identity's: the share records name the member they were mined for.
      await session.showMember(this.address);
      await session.refreshRecorded();
      this.snapshot = session.snapshot();
      this.consent = await store.getConsent();
      this.mobileOptIn = this.consent?.granted === true && this.consent.mobileOptIn;
      if (!this.address) afterIdle(warmUpKeyDerivation);
      void this.fetchWorkSource();
      void this.fetchCredit();
      this.creditTimer = setInterval(() => void this.fetchCredit(), 5000);
    } catch (err) {
      this.loadError = `could not open this device's record (IndexedDB): ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async fetchWorkSource(): Promise<void> {
    try {
      this.workSource = (await fetchStats()).workSource;
    } catch {
      // shown as unknown
    }
  }

  private async fetchCredit(): Promise<void> {
    if (!this.address) return;
    try {
      this.credit = await fetchPoolCredit(this.address);
    } catch {
      // keep the last figure
    }
  }

  private async start(): Promise<void> {
    if (!this.store || !this.session) return;
    // On a phone, Start stays disabled until the phone's own opt-in is ticked; it is kept with the consent.
    if (this.mobile && !this.mobileOptIn) return;
    if (!this.consent?.granted || (this.mobile && !this.consent.mobileOptIn)) {
      this.consent = await this.store.grantConsent(Date.now(), { mobileOptIn: this.mobile && this.mobileOptIn });
    }
    this.address = (await this.store.getOrCreateIdentity()).address;
    await this.session.showMember(this.address);
    this.history = [];
    await this.session.start();
  }

  private async stop(): Promise<void> {
    await this.session?.stop();
    void this.fetchCredit();
  }

  private async withdraw(): Promise<void> {
    await this.session?.stop();
    this.consent = await this.store?.withdrawConsent(Date.now());
  }

  private async changeSettings(event: CustomEvent<Partial<MinerSettings>>): Promise<void> {
    if (!this.store || !this.session) return;
    // The duty cycle and the pause rules apply at once; threads and the GPU at the next start.
    this.session.configure(sessionSettings(await this.store.saveSettings(event.detail)));
  }

  private identityChanged(event: CustomEvent<string>): void {
    this.address = event.detail;
    this.credit = undefined;
    this.history = [];
    void this.session?.showMember(event.detail);
    void this.fetchCredit();
  }

  override render() {
    if (this.loadError) return html`<p class="error" role="alert">${this.loadError}</p>`;
    const s = this.snapshot;
    if (!s) return html`<p>Loading…</p>`;
    const local = s.recorded ?? { pending: 0, accepted: 0, rejected: 0 };
    const differences = shareDifference(local, this.credit?.shares, s.shares.rejectReasons);
    return html`
      <section aria-labelledby="what">
        <h2 id="what">What this does</h2>
        <p>
          When you start contributing, this tab computes SHA-256d hashes of block headers: the proof-of-work of Bitcoin.
          The work goes to the Computing Power DAO's mining pool, which checks every share your browser finds and credits it
          to your member address as work (a share at difficulty <i>d</i> counts as <i>d</i> × 2<sup>32</sup> hashes).
          Rewards the pool earns are split among members in proportion to their credited work, and work also gives a say in the
          DAO's votes. Your CPU does the hashing in background workers; you choose how much of it below.
        </p>
        <p>
          Work source:
          ${this.workSource
            ? this.workSource.practice
              ? html`<span class="practice" data-work-source="practice">practice</span>: a made-up chain, so no real coin is mined;
                  the shares are real work and are credited, but the pool earns no block reward from them: any
                  reward shown comes from the DAO's configured epoch reward (a test token locally).`
              : html`<span class="real" data-work-source="real">real</span> (${this.workSource.label})`
            : html`<span data-work-source="unknown">unknown (the pool did not answer)</span>`}
        </p>
      </section>

      <section aria-labelledby="consent">
        <h2 id="consent">Your consent</h2>
        <dao-consent-panel .consent=${this.consent} @withdraw=${this.withdraw}></dao-consent-panel>
      </section>

      <section aria-labelledby="controls">
        <h2 id="controls">Mining</h2>
        <dao-miner-controls
          .state=${s.state}
          .cpuPercent=${s.settings.cpuCeiling}
          .threads=${s.settings.threads}
          .maxThreads=${reportedCores()}
          .measuredCpuShare=${s.measuredCpuShare}
          .useGpu=${s.settings.useGpu}
          .gpu=${s.gpu}
          .gpuNote=${s.gpuNote}
          .paused=${s.paused[0]?.detail}
          .runningPercent=${s.cpuPercent}
          .pressure=${s.pressure}
          .mobile=${this.mobile}
          .mobileOptIn=${this.mobileOptIn}
          @mobile-opt-in=${(e: CustomEvent<{ checked: boolean }>) => (this.mobileOptIn = e.detail.checked)}
          @start=${this.start}
          @stop=${this.stop}
          @settings-change=${this.changeSettings}
        ></dao-miner-controls>
        ${s.error ? html`<p class="error" role="alert">${s.error}</p>` : ''}
      </section>

      <section aria-labelledby="figures" aria-live="polite">
        <h2 id="figures">Figures</h2>
        <dl>
          <dt>Hash rate <small>(last ${RATE_WINDOW_S} s)</small></dt>
          <dd data-hashes-per-second=${s.hashesPerSecond}>
            ${formatRate(s.hashesPerSecond)}
            ${s.gpu
              ? html`: <span data-cpu-hashes-per-second=${s.cpuHashesPerSecond}>CPU ${formatRate(s.cpuHashesPerSecond)}</span>
                  + <span data-gpu-hashes-per-second=${s.gpuHashesPerSecond}>GPU ${formatRate(s.gpuHashesPerSecond)}</span>
                  <br /><small data-gpu-shares-machine>the GPU's dispatches share this machine with the CPU workers: the CPU rate is lower while the GPU runs</small>`
              : ''}
          </dd>
          <dt>Last minute</dt>
          <dd><dao-hashrate-chart .points=${this.history}></dao-hashrate-chart></dd>
          <dt>Pool connection</dt>
          <dd data-pool=${s.pool}>${s.pool}${s.poolDetail ? `: ${s.poolDetail}` : ''}</dd>
          <dt>Since you pressed Start</dt>
          <dd data-session-accepted=${s.shares.accepted} data-session-rejected=${s.shares.rejected}>
            ${countOf(s.shares.accepted, 'share')} accepted, ${s.shares.rejected} rejected
            ${Object.entries(s.shares.byEngine).map(
              ([name, n]) => html`<br /><small data-engine-accepted=${name} data-accepted=${n.accepted}>${name}: ${n.accepted} accepted, ${n.rejected} rejected</small>`,
            )}
          </dd>
          <dt>Your shares</dt>
          <dd data-shares-compare>
            <span data-local-accepted=${local.accepted} data-local-rejected=${local.rejected} data-local-pending=${local.pending}>this device: ${countOf(local.accepted, 'share')}</span>
            ·
            <span data-pool-shares=${this.credit?.shares ?? ''}>the pool: ${this.credit ? countOf(this.credit.shares, 'share') : this.address ? '…' : 'nothing yet'}</span>
            ${differences.length ? html`<br /><small data-shares-why>${differences.join('; ')}</small>` : ''}
          </dd>
        </dl>
      </section>

      <dao-chain-section .store=${this.store} .address=${this.address}></dao-chain-section>

      <section aria-labelledby="identity">
        <h2 id="identity">Your member address</h2>
        <dao-identity-panel .store=${this.store} .address=${this.address} .busy=${s.state !== 'idle'}
          @identity-change=${this.identityChanged}></dao-identity-panel>
      </section>
    `;
  }
}

customElements.define('dao-app', DaoApp);

/** Runs `task` when the browser is idle (or soon, where it cannot tell). */
function afterIdle(task: () => void): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => task());
  else setTimeout(task, 200);
}
