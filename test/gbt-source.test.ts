import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { bytesToHex, concatBytes, hexToBytes, reverseBytes } from '../protocol/hex.js';
import { serializeHeader } from '../protocol/header.js';
import { branchToHex, merkleBranchForCoinbase, merkleRootFromBranch } from '../protocol/merkle.js';
import { sha256d } from '../protocol/sha256.js';
import { prevhashToStratum } from '../protocol/stratum-job.js';
import { bitsToTarget, hashValue } from '../protocol/target.js';
import { BitcoinRpcError } from '../server/work/bitcoin-rpc.js';
import { bip34HeightPush, buildCoinbaseParts, encodeVarInt, scriptNumBytes } from '../protocol/coinbase.js';
import { buildTemplateFromGbt, createGbtSource, type BlockTemplateResult } from '../server/work/gbt-source.js';
import { loadVectors } from './helpers/vectors.js';
import { collectTemplates } from './helpers/collect-templates.js';

const hex = bytesToHex;
const vector = loadVectors().stratum_examples[0]!;
const notify = vector.messages.notify.params as [string, string, string, string, string[], string, string, string, boolean];
const PAYOUT = hexToBytes('0014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc', 'payout'); // the vector's P2WPKH
const PASSWORD = 'hunter2-very-secret';

describe('coinbase builder (pure)', () => {
  it('encodes CompactSize varints', () => {
    assert.equal(hex(encodeVarInt(0)), '00');
    assert.equal(hex(encodeVarInt(252)), 'fc');
    assert.equal(hex(encodeVarInt(253)), 'fdfd00');
    assert.equal(hex(encodeVarInt(0xffff)), 'fdffff');
    assert.equal(hex(encodeVarInt(0x10000)), 'fe00000100');
    assert.equal(hex(encodeVarInt(2 ** 32)), 'ff0000000001000000');
  });

  it('encodes CScriptNum like Core (minimal, sign bit in the last byte)', () => {
    assert.equal(hex(scriptNumBytes(0)), '');
    assert.equal(hex(scriptNumBytes(1)), '01');
    assert.equal(hex(scriptNumBytes(127)), '7f');
    assert.equal(hex(scriptNumBytes(128)), '8000');
    assert.equal(hex(scriptNumBytes(255)), 'ff00');
    assert.equal(hex(scriptNumBytes(256)), '0001');
    assert.equal(hex(scriptNumBytes(-1)), '81');
    assert.equal(hex(scriptNumBytes(-128)), '8080');
    assert.equal(hex(scriptNumBytes(2442185)), 'c94325');
  });

  it('writes the BIP34 height as `CScript() << nHeight` does: OP_1..OP_16 for 1..16, else a push', () => {
    assert.equal(hex(bip34HeightPush(0)), '00');
    assert.equal(hex(bip34HeightPush(1)), '51');
    assert.equal(hex(bip34HeightPush(16)), '60');
    assert.equal(hex(bip34HeightPush(17)), '0111');
    assert.equal(hex(bip34HeightPush(128)), '028000');
    assert.equal(hex(bip34HeightPush(227931)), '035b7a03'); // mainnet's BIP34 activation height
    assert.equal(hex(bip34HeightPush(2442185)), '03c94325'); // the vector's testnet block
  });

  it('keeps the coinbase scriptSig within 2..100 bytes', () => {
    assert.throws(() => buildCoinbaseParts({ height: 800_000, valueSats: 1n, payoutScript: PAYOUT, extranonceSize: 8, tag: new Uint8Array(90) }), /2\.\.100/);
    const { coinb1, coinb2 } = buildCoinbaseParts({ height: 1, valueSats: 1n, payoutScript: PAYOUT, extranonceSize: 1 });
    // version, 1 input, null prevout, scriptSig of 3 bytes: OP_1, push 1, (extranonce)
    assert.equal(hex(coinb1), '02000000' + '01' + '00'.repeat(32) + 'ffffffff' + '03' + '51' + '01');
    assert.equal(hex(coinb2), 'ffffffff' + '01' + '0100000000000000' + '16' + hex(PAYOUT) + '00000000');
  });

  it('builds the vector block 2442185 job from its getblocktemplate data', () => {
    const gbt: BlockTemplateResult = {
      version: 0x20000000,
      previousblockhash: '00000000000000022246451e9af7ac4f8bff2527d223f6e623740e92171592f2',
      transactions: vector.template_txids!.map((txid) => ({ txid, data: '00' })),
      coinbasevalue: 2_463_669,
      bits: notify[6],
      curtime: parseInt(notify[7], 16),
      height: 2442185,
      default_witness_commitment: (vector as unknown as { default_witness_commitment: string }).default_witness_commitment,
    };
    const { template } = buildTemplateFromGbt(gbt, { payoutScript: PAYOUT, extranonceSize: 8, tag: new TextEncoder().encode('/dao/') }, true, '1');
    const coinb1 = hex(template.coinb1);
    const prefix = '02000000' + '01' + '00'.repeat(32) + 'ffffffff';
    assert.ok(notify[2].startsWith(prefix) && coinb1.startsWith(prefix), 'same transaction prefix as public-pool');
    // scriptSig length, then the BIP34 height, exactly as in the vector's coinbase ("1903c94325...").
    assert.equal(coinb1.slice(prefix.length + 2, prefix.length + 10), '03c94325');
    assert.equal(vector.expected.coinbase_hex.slice(prefix.length + 2, prefix.length + 10), '03c94325');
    // The last output is the witness commitment, zero value, byte for byte the template's script (and public-pool's).
    const commitmentOutput = '0000000000000000' + '26' + gbt.default_witness_commitment! + '00000000';
    assert.ok(hex(template.coinb2).endsWith(commitmentOutput));
    assert.ok(vector.expected.coinbase_hex.endsWith(commitmentOutput));
    assert.deepEqual(branchToHex(template.merkleBranch), vector.expected.merkle_branch_from_template);
    assert.deepEqual(branchToHex(template.merkleBranch), notify[4]);
    assert.equal(prevhashToStratum(template.prevhash), notify[1]);
    assert.equal(template.bits, 0x192495f8);
    assert.equal(template.ntime, 0x64b3f3ec);
    assert.equal(template.forwardTarget, bitsToTarget(0x192495f8));
  });
});

// ---------------------------------------------------------------------------------------------
// A minimal bitcoind stand-in: no bitcoind runs here, so this HTTP JSON-RPC server plays its part
// (basic auth, getblocktemplate from fixture data, submitblock recorded and parsed back).

/** A small valid legacy transaction, so the block the source assembles can be parsed and hashed. */
function fakeTx(i: number): Uint8Array {
  return concatBytes(
    hexToBytes('02000000' + '01', 'tx'),
    new Uint8Array(32).fill(i), hexToBytes('00000000' + '00' + 'ffffffff' + '01', 'tx'),
    hexToBytes('e803000000000000' + '01' + '51' + '00000000', 'tx'),
  );
}

function readVarInt(b: Uint8Array, at: number): [number, number] {
  const first = b[at]!;
  const view = new DataView(b.buffer, b.byteOffset);
  if (first < 0xfd) return [first, at + 1];
  if (first === 0xfd) return [view.getUint16(at + 1, true), at + 3];
  return [view.getUint32(at + 1, true), at + 5];
}

interface ParsedTx { end: number; txid: Uint8Array; scriptSig: Uint8Array[]; witness: Uint8Array[][] }

/** Parses one transaction (BIP144 aware) and its txid from the non-witness bytes. */
function parseTx(b: Uint8Array, start: number): ParsedTx {
  let at = start + 4;
  const segwit = b[at] === 0 && b[at + 1] === 1;
  if (segwit) at += 2;
  const bodyStart = at;
  let n: number;
  let len: number;
  [n, at] = readVarInt(b, at);
  const scriptSig: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    [len, at] = readVarInt(b, at + 36);
    scriptSig.push(b.slice(at, at + len));
    at += len + 4;
  }
  [n, at] = readVarInt(b, at);
  for (let i = 0; i < n; i++) {
    [len, at] = readVarInt(b, at + 8);
    at += len;
  }
  const bodyEnd = at;
  const witness: Uint8Array[][] = [];
  if (segwit) {
    for (let i = 0; i < scriptSig.length; i++) {
      const items: Uint8Array[] = [];
      [n, at] = readVarInt(b, at);
      for (let k = 0; k < n; k++) {
        [len, at] = readVarInt(b, at);
        items.push(b.slice(at, at + len));
        at += len;
      }
      witness.push(items);
    }
  }
  const nonWitness = concatBytes(b.slice(start, start + 4), b.slice(bodyStart, bodyEnd), b.slice(at, at + 4));
  return { end: at + 4, txid: sha256d(nonWitness), scriptSig, witness };
}

function merkleRoot(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(concatBytes(level[i]!, level[i + 1] ?? level[i]!)));
    level = next;
  }
  return level[0]!;
}

const TXS = [1, 2, 3].map(fakeTx);
const TXIDS_INTERNAL = TXS.map(sha256d);
/** BIP141: the commitment over wtxids, the coinbase's taken as zero (these legacy txs' wtxid = txid). */
const WITNESS_COMMITMENT = '6a24aa21a9ed' + hex(sha256d(concatBytes(merkleRoot([new Uint8Array(32), ...TXIDS_INTERNAL]), new Uint8Array(32))));

function regtestTemplate(prevDisplay: string, height: number): BlockTemplateResult {
  return {
    version: 0x20000000,
    previousblockhash: prevDisplay,
    transactions: TXS.map((data) => ({ data: hex(data), txid: hex(reverseBytes(sha256d(data))) })),
    coinbasevalue: 5_000_003_000,
    bits: '207fffff', // regtest: half of all hashes meet it, so the test finds a block at once
    curtime: 1_700_000_000,
    height,
    default_witness_commitment: WITNESS_COMMITMENT,
    longpollid: prevDisplay + '1',
  };
}

interface StandIn {
  url: string;
  port: number;
  template: BlockTemplateResult;
  gbtParams: unknown[][];
  submitted: string[];
  submitResult: string | null;
  rpcError?: { code: number; message: string };
  close(): Promise<void>;
}

async function startBitcoindStandIn(password = PASSWORD): Promise<StandIn> {
  const expectedAuth = 'Basic ' + Buffer.from(`dao:${PASSWORD}`).toString('base64');
  let curtime = 1_700_000_000;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (req.headers.authorization !== expectedAuth) return void res.writeHead(401).end(); // as bitcoind: empty body
      const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
      const reply = (status: number, payload: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ id, ...payload }));
      if (method === 'getblocktemplate') {
        standIn.gbtParams.push(params);
        if (standIn.rpcError) return reply(500, { result: null, error: standIn.rpcError });
        return reply(200, { result: { ...standIn.template, curtime: curtime++ }, error: null });
      }
      if (method === 'submitblock') {
        standIn.submitted.push(params[0] as string);
        return reply(200, { result: standIn.submitResult, error: null });
      }
      reply(404, { result: null, error: { code: -32601, message: 'Method not found' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const standIn: StandIn = {
    url: `http://dao:${password}@127.0.0.1:${port}`,
    port,
    template: regtestTemplate('11'.repeat(32), 200),
    gbtParams: [],
    submitted: [],
    submitResult: null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return standIn;
}


describe('getblocktemplate source against a bitcoind stand-in', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function setup(opts: { pollIntervalMs?: number; refreshIntervalMs?: number; minTxUpdateIntervalMs?: number } = {}) {
    const node = await startBitcoindStandIn();
    const source = createGbtSource({ url: node.url, payoutScript: PAYOUT, coinbaseTag: '/dao-test/', pollIntervalMs: 40, refreshIntervalMs: 60_000, ...opts });
    const templates = collectTemplates(source);
    cleanup.push(() => source.stop(), () => node.close());
    await source.start();
    return { node, source, templates };
  }

  it('emits a first template with the job fields from the node', async () => {
    const { node, source, templates } = await setup();
    const t = templates.all[0]!;
    assert.deepEqual(node.gbtParams[0], [{ rules: ['segwit'] }]);
    assert.equal(source.kind, 'gbt');
    assert.equal(source.label, `node getblocktemplate at 127.0.0.1:${node.port} (height 200)`);
    assert.equal(source.connected, true);
    assert.equal(t.height, 200);
    assert.equal(t.bits, 0x207fffff);
    assert.equal(t.version, 0x20000000);
    assert.equal(t.ntime, 1_700_000_000);
    assert.equal(hex(t.prevhash), '11'.repeat(32));
    assert.equal(t.extranonceSize, 8);
    assert.equal(t.cleanJobs, true);
    assert.equal(t.forwardTarget, bitsToTarget(0x207fffff));
    assert.deepEqual(t.merkleBranch, merkleBranchForCoinbase(TXIDS_INTERNAL));
    assert.ok(hex(t.coinb1).endsWith('02c800' + '08'), 'BIP34 height 200 then the 8-byte extranonce push');
    assert.ok(hex(t.coinb2).startsWith('0a' + hex(new TextEncoder().encode('/dao-test/'))));
  });

  it('a new previous block gives cleanJobs true; a changed transaction set gives cleanJobs false', async () => {
    const { node, templates } = await setup({ minTxUpdateIntervalMs: 0 });
    node.template = regtestTemplate('22'.repeat(32), 201);
    const t = await templates.next();
    assert.equal(t.cleanJobs, true);
    assert.equal(t.height, 201);
    assert.equal(hex(t.prevhash), '22'.repeat(32));
    node.template = { ...node.template, transactions: node.template.transactions.slice(0, 2) };
    const u = await templates.next();
    assert.equal(u.cleanJobs, false);
    assert.equal(u.merkleBranch.length, 2);
  });

  it('re-issues the template with a fresh curtime every refresh interval (cleanJobs false)', async () => {
    const { templates } = await setup({ refreshIntervalMs: 200 });
    const first = templates.all[0]!;
    const t = await templates.next();
    assert.equal(t.cleanJobs, false);
    assert.ok(t.ntime > first.ntime);
    assert.equal(hex(t.prevhash), hex(first.prevhash));
  });

  it('submits a share that meets the network target as a full block the node can parse back', async () => {
    const { node, source, templates } = await setup();
    const t = templates.all[0]!;
    const extranonce = hexToBytes('a1a2a3a4b1b2b3b4', 'en');
    const coinbase = concatBytes(t.coinb1, extranonce, t.coinb2);
    const merkle = merkleRootFromBranch(sha256d(coinbase), t.merkleBranch);
    const target = bitsToTarget(t.bits);
    const headerFor = (nonce: number) => serializeHeader({ version: t.version, prevhash: t.prevhash, merkleRoot: merkle, ntime: t.ntime, bits: t.bits, nonce });
    const findNonce = (good: boolean) => {
      for (let nonce = 0; ; nonce++) if (hashValue(sha256d(headerFor(nonce))) <= target === good) return nonce;
    };
    const share = (nonce: number) => {
      const header = headerFor(nonce);
      return { template: t, extranonce, ntime: t.ntime, nonce, version: t.version, header, hash: hex(reverseBytes(sha256d(header))) };
    };

    assert.deepEqual(await source.submit(share(findNonce(false))), { accepted: false, reason: 'below network target' });
    assert.equal(node.submitted.length, 0);

    const good = share(findNonce(true));
    assert.deepEqual(await source.submit(good), { accepted: true });
    assert.equal(node.submitted.length, 1);
    const block = hexToBytes(node.submitted[0], 'block');
    assert.deepEqual(block.slice(0, 80), good.header);
    const [count, txStart] = readVarInt(block, 80);
    assert.equal(count, 1 + TXS.length);
    const cb = parseTx(block, txStart);
    assert.equal(hex(cb.txid), hex(sha256d(coinbase)), 'coinbase txid is that of coinb1 || extranonce || coinb2');
    assert.deepEqual(cb.witness, [[new Uint8Array(32)]], 'witness reserved value');
    assert.equal(hex(cb.scriptSig[0]!).slice(0, 6), '02c800', 'BIP34 height 200');
    let at = cb.end;
    const txids = [cb.txid];
    for (const tx of TXS) {
      assert.deepEqual(block.slice(at, at + tx.length), tx);
      const parsed = parseTx(block, at);
      txids.push(parsed.txid);
      at = parsed.end;
    }
    assert.equal(at, block.length);
    assert.equal(hex(merkleRoot(txids)), hex(good.header.slice(36, 68)), 'header commits to these transactions');
    assert.ok(hex(block).includes(WITNESS_COMMITMENT));

    node.submitResult = 'high-hash';
    assert.deepEqual(await source.submit(good), { accepted: false, reason: 'high-hash' });
  });

  it('says clearly when the password is wrong (401), never showing it', async () => {
    const node = await startBitcoindStandIn('wrong-password-xyz');
    cleanup.push(() => node.close());
    const source = createGbtSource({ url: node.url, payoutScript: PAYOUT });
    assert.ok(!source.label.includes('wrong-password-xyz'));
    await assert.rejects(source.start(), (err: Error) => {
      assert.ok(err instanceof BitcoinRpcError && err.kind === 'unauthorized');
      assert.match(err.message, /HTTP 401, wrong RPC user or password/);
      assert.ok(!err.message.includes('wrong-password-xyz') && !err.message.includes(PASSWORD));
      return true;
    });
  });

  it('says clearly when nothing listens (connection refused), never showing the password', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const source = createGbtSource({ url: `http://dao:${PASSWORD}@127.0.0.1:${port}`, payoutScript: PAYOUT });
    assert.equal(source.label, `node getblocktemplate at 127.0.0.1:${port}`);
    await assert.rejects(source.start(), (err: Error) => {
      assert.ok(err instanceof BitcoinRpcError && err.kind === 'unreachable');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}: connection refused`));
      assert.ok(!err.message.includes(PASSWORD));
      return true;
    });
  });

  it('passes on a JSON-RPC error object from the node', async () => {
    const node = await startBitcoindStandIn();
    cleanup.push(() => node.close());
    node.rpcError = { code: -10, message: 'Bitcoin Core is in initial sync and waiting for blocks...' };
    const source = createGbtSource({ url: node.url, payoutScript: PAYOUT });
    await assert.rejects(source.start(), (err: Error) => {
      assert.ok(err instanceof BitcoinRpcError && err.kind === 'rpc' && err.rpcCode === -10);
      assert.match(err.message, /getblocktemplate failed: Bitcoin Core is in initial sync.*\(code -10\)/);
      return true;
    });
  });
});
