// The pure parts of web/contributor/ and the one share tally: the duty-cycle ceiling, the pause
// reasons, the settings' checks, and a tally that counts each share once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuCeiling } from '../web/contributor/cpu-ceiling.js';
import { devicePauses } from '../web/contributor/device-rules.js';
import { initialSettings, mergeSettings } from '../web/contributor/options.js';
import { PauseSet } from '../web/contributor/pause-set.js';
import { ShareTally, type TallyEvent } from '../web/miner/share-tally.js';
import type { FoundShare } from '../web/miner/pool-client.js';

const ADDRESS = '0x52908400098527886E0F7030069857D2E4169EE7';

test('a caller can lower the duty cycle below the user ceiling, never raise it', () => {
  const cpu = new CpuCeiling(50);
  assert.equal(cpu.percent, 50);
  cpu.limit(100);
  assert.equal(cpu.percent, 50);
  cpu.limit(20);
  assert.equal(cpu.percent, 20);
  cpu.setCeiling(10);
  assert.equal(cpu.percent, 10, 'the user lowering the ceiling below a limit wins');
  cpu.limit(undefined);
  cpu.setCeiling(80);
  assert.equal(cpu.percent, 80);
  assert.throws(() => cpu.limit(0), /cpu limit must be a number in 10\.\.100, got 0/);
  assert.throws(() => new CpuCeiling(Number.NaN), /cpuCeiling must be a number in 10\.\.100/);
});

test('paused while any reason holds', () => {
  const pauses = new PauseSet();
  assert.equal(pauses.add('out-of-view'), true);
  assert.equal(pauses.add('out-of-view'), false, 'the same reason twice is one reason');
  pauses.add('battery', 'the battery is low');
  assert.equal(pauses.delete('out-of-view'), true);
  assert.equal(pauses.paused, true);
  assert.deepEqual(pauses.list(), [{ reason: 'battery', detail: 'the battery is low' }]);
  assert.equal(pauses.delete('battery'), true);
  assert.equal(pauses.delete('battery'), false);
  assert.equal(pauses.paused, false);
});

test('each device rule is a reason of its own', () => {
  const all = devicePauses({ hidden: true, battery: { level: 0.1, charging: false }, saveData: true }, { pauseWhenHidden: true, pauseOnBattery: true });
  assert.deepEqual([...all.keys()], ['hidden', 'battery', 'save-data']);
  const chosen = devicePauses({ hidden: true, battery: { level: 0.1, charging: false }, saveData: false }, { pauseWhenHidden: false, pauseOnBattery: false });
  assert.equal(chosen.size, 0, 'the member may turn the hidden-tab and battery rules off');
});

test('options and settings are checked with precise errors', () => {
  assert.throws(() => initialSettings({ address: '0x123', storage: 'none' }), /address must be 0x and 40 hex digits, got "0x123"/);
  assert.throws(() => initialSettings({ address: ADDRESS, storage: 'cookies' as 'none' }), /storage must be 'none' or 'indexeddb'/);
  assert.throws(() => initialSettings({ address: ADDRESS, storage: 'none', threads: 0 }), /threads must be an integer in 1\.\.256, got 0/);
  const settings = initialSettings({ address: ADDRESS, storage: 'none', cpuCeiling: 30 });
  assert.equal(settings.cpuCeiling, 30);
  assert.throws(() => mergeSettings(settings, { speed: 1 } as never), /unknown contributor setting "speed"/);
});

test('the tally counts each share once, and a reset does not count answers to earlier shares', async () => {
  const tally = new ShareTally();
  const events: TallyEvent['type'][] = [];
  tally.onEvent((e) => events.push(e.type));
  const share = {} as FoundShare;
  let answerLate!: (o: { accepted: boolean }) => void;
  const late = tally.track(share, 'wasm', new Promise((r) => (answerLate = r)));
  await tally.track(share, 'wasm', Promise.resolve({ accepted: true }));
  await tally.track(share, 'webgpu', Promise.resolve({ accepted: false, reason: 'low difficulty' }));
  const counts = tally.snapshot();
  assert.deepEqual(
    { found: counts.found, accepted: counts.accepted, rejected: counts.rejected, pending: counts.pending },
    { found: 3, accepted: 1, rejected: 1, pending: 1 },
  );
  assert.deepEqual(counts.byEngine, { wasm: { accepted: 1, rejected: 0 }, webgpu: { accepted: 0, rejected: 1 } });
  assert.deepEqual(counts.rejectReasons, { 'low difficulty': 1 });
  tally.reset();
  answerLate({ accepted: true });
  await late;
  assert.equal(tally.accepted, 0, 'an answer to a share of the last session is not counted in this one');
  assert.deepEqual(events, ['sent', 'sent', 'answered', 'sent', 'answered', 'answered'], 'but it is still told (its record settles)');
});
