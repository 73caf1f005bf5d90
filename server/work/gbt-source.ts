import { ProtocolError } from '../../protocol/errors.js';
import { bytesToHex, concatBytes, hexToBytes, reverseBytes } from '../../protocol/hex.js';
import { merkleBranchForCoinbase, merkleRootFromBranch } from '../../protocol/merkle.js';
import { sha256d } from '../../protocol/sha256.js';
import { bitsToTarget, hashValue } from '../../protocol/target.js';
import { BitcoinRpcError, createBitcoinRpc, parseRpcUrl, type BitcoinRpc } from './bitcoin-rpc.js';
import { buildCoinbaseParts, coinbaseWithWitness, serializeBlock } from '../../protocol/coinbase.js';
import type { ForwardedShare, SubmitOutcome, WorkSource, WorkTemplate } from './work-source.js';

/**
 * Work from our own node's getblocktemplate: we build the coinbase (paying the DAO's script) and
 * the merkle branch ourselves, and a share that meets the network target becomes a full block
 * for `submitblock`. Polled, not long-polled: one code path, and a 2 s poll finds a new block
 * well within the time a miner needs to notice.
 */

/** Structural logger: pino's logger fits, and so does a test spy. */
export interface WorkLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}
const silentLogger: WorkLogger = { info() {}, warn() {}, error() {} };

/** The getblocktemplate fields we use (BIP22/23/141, as Bitcoin Core returns them). */
export interface BlockTemplateResult {
  version: number;
  previousblockhash: string;
  transactions: { data: string; txid: string; hash?: string }[];
  coinbasevalue: number;
  bits: string;
  curtime: number;
  height: number;
  target?: string;
  default_witness_commitment?: string;
  longpollid?: string;
}

export interface GbtSourceOptions {
  /** `http://USER:PASS@HOST:PORT` of the node's RPC. */
  url: string;
  /** The scriptPubKey the block reward pays. */
  payoutScript: Uint8Array;
  /** Text after the extranonce in the coinbase scriptSig. */
  coinbaseTag?: string;
  pollIntervalMs?: number;
  /** A template with a fresh curtime at least this often, so miners always get a new job within 60 s. */
  refreshIntervalMs?: number;
  /**
   * A template whose transactions changed (same previous block) is emitted at most this often:
   * Core's mempool changes nearly every poll on mainnet, and a job every 2 s for every session is
   * churn for little fee. A new previous block is always emitted at once.
   */
  minTxUpdateIntervalMs?: number;
  extranonceSize?: number;
  rpcTimeoutMs?: number;
  logger?: WorkLogger;
}

/** What submit needs beyond the template: the transactions to put in the block. */
interface BlockContext {
  transactions: Uint8Array[];
  segwit: boolean;
}

export interface BuiltTemplate {
  template: WorkTemplate;
  context: BlockContext;
  /** Everything that makes two templates different work (not curtime). */
  fingerprint: string;
}

function field<T>(ok: boolean, value: T, name: string, expected: string): T {
  if (!ok) throw new ProtocolError(`getblocktemplate.${name}`, `expected ${expected}`);
  return value;
}

/** Turns a getblocktemplate result into a WorkTemplate (pure, so it is tested against the vector). */
export function buildTemplateFromGbt(
  gbt: BlockTemplateResult,
  coinbase: { payoutScript: Uint8Array; extranonceSize: number; tag?: Uint8Array },
  cleanJobs: boolean,
  sourceJobId: string,
): BuiltTemplate {
  const height = field(Number.isSafeInteger(gbt.height) && gbt.height >= 0, gbt.height, 'height', 'a block height');
  const version = field(Number.isInteger(gbt.version), gbt.version >>> 0, 'version', 'an integer');
  const curtime = field(Number.isInteger(gbt.curtime) && gbt.curtime > 0, gbt.curtime >>> 0, 'curtime', 'a unix time');
  const value = field(Number.isSafeInteger(gbt.coinbasevalue) && gbt.coinbasevalue >= 0, gbt.coinbasevalue, 'coinbasevalue', 'satoshis');
  field(Array.isArray(gbt.transactions), 0, 'transactions', 'an array');
  const bits = parseInt(field(typeof gbt.bits === 'string' && /^[0-9a-fA-F]{8}$/.test(gbt.bits), gbt.bits, 'bits', '8 hex digits'), 16) >>> 0;
  bitsToTarget(bits); // rejects a negative or overflowing nBits now, not at the first share
  // RPC hashes are display order; the header and the merkle tree use internal order.
  const prevhash = reverseBytes(hexToBytes(gbt.previousblockhash, 'getblocktemplate.previousblockhash', 32));
  const txids = gbt.transactions.map((tx, i) => reverseBytes(hexToBytes(tx.txid, `getblocktemplate.transactions[${i}].txid`, 32)));
  const transactions = gbt.transactions.map((tx, i) => hexToBytes(tx.data, `getblocktemplate.transactions[${i}].data`));
  const commitment = gbt.default_witness_commitment
    ? hexToBytes(gbt.default_witness_commitment, 'getblocktemplate.default_witness_commitment')
    : undefined;
  const { coinb1, coinb2 } = buildCoinbaseParts({
    height,
    valueSats: BigInt(value),
    payoutScript: coinbase.payoutScript,
    extranonceSize: coinbase.extranonceSize,
    ...(commitment ? { witnessCommitmentScript: commitment } : {}),
    ...(coinbase.tag ? { tag: coinbase.tag } : {}),
  });
  const template: WorkTemplate = {
    prevhash,
    coinb1,
    coinb2,
    extranonceSize: coinbase.extranonceSize,
    merkleBranch: merkleBranchForCoinbase(txids),
    version,
    bits,
    ntime: curtime,
    height,
    cleanJobs,
    forwardTarget: bitsToTarget(bits),
    sourceJobId,
  };
  const fingerprint = [gbt.previousblockhash, gbt.bits, version, value, gbt.default_witness_commitment ?? '', ...gbt.transactions.map((t) => t.txid)].join(':');
  return { template, context: { transactions, segwit: commitment !== undefined }, fingerprint };
}

/** How many recent templates keep their transactions for submit (older shares are long stale). */
const KEPT_TEMPLATES = 32;
const SUBMIT_ATTEMPTS = 3;

export function createGbtSource(options: GbtSourceOptions): WorkSource {
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
  const minTxUpdateIntervalMs = options.minTxUpdateIntervalMs ?? 10_000;
  const extranonceSize = options.extranonceSize ?? 8;
  const logger = options.logger ?? silentLogger;
  const tag = options.coinbaseTag ? new TextEncoder().encode(options.coinbaseTag) : undefined;
  const hostPort = parseRpcUrl(options.url).hostPort;
  const rpc: BitcoinRpc = createBitcoinRpc({ url: options.url, ...(options.rpcTimeoutMs ? { timeoutMs: options.rpcTimeoutMs } : {}) });

  const listeners: ((t: WorkTemplate) => void)[] = [];
  const contexts = new Map<string, BlockContext>();
  let current: { prevhashHex: string; fingerprint: string; emittedAtMs: number; height: number } | undefined;
  let nextJobId = 1;
  let connected = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;

  function emit(built: BuiltTemplate, gbt: BlockTemplateResult): void {
    const id = built.template.sourceJobId!;
    contexts.set(id, built.context);
    while (contexts.size > KEPT_TEMPLATES) contexts.delete(contexts.keys().next().value!);
    current = { prevhashHex: gbt.previousblockhash, fingerprint: built.fingerprint, emittedAtMs: Date.now(), height: gbt.height };
    for (const listener of listeners) listener(built.template);
  }

  /** One getblocktemplate; emits when the rules in the options say so. Throws what the node said. */
  async function pollOnce(): Promise<void> {
    const gbt = await rpc.call<BlockTemplateResult>('getblocktemplate', [{ rules: ['segwit'] }]);
    if (!connected) logger.info({ endpoint: rpc.endpoint }, 'node getblocktemplate reachable');
    connected = true;
    const nowMs = Date.now();
    const newBlock = current === undefined || gbt.previousblockhash !== current.prevhashHex;
    const built = buildTemplateFromGbt(gbt, { payoutScript: options.payoutScript, extranonceSize, ...(tag ? { tag } : {}) }, newBlock, String(nextJobId));
    const sinceEmitMs = current ? nowMs - current.emittedAtMs : Infinity;
    const changed = current !== undefined && built.fingerprint !== current.fingerprint;
    if (!running) return;
    if (newBlock || (changed && sinceEmitMs >= minTxUpdateIntervalMs) || sinceEmitMs >= refreshIntervalMs) {
      nextJobId++;
      if (newBlock) logger.info({ height: gbt.height, prevhash: gbt.previousblockhash }, 'new block template');
      emit(built, gbt);
    }
  }

  function schedule(delayMs: number): void {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(runPoll, delayMs);
  }

  /** Polls never overlap: a poll asked for while one is in flight runs right after it. */
  function runPoll(): void {
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = pollOnce()
      .catch((err: unknown) => {
        if (connected) logger.warn({ endpoint: rpc.endpoint, err: (err as Error).message }, 'node getblocktemplate failed; miners keep the last job');
        connected = false;
      })
      .finally(() => {
        polling = undefined;
        schedule(pollAgain ? 0 : pollIntervalMs);
        pollAgain = false;
      });
  }

  async function submitBlock(hex: string, hash: string): Promise<SubmitOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await rpc.call<string | null>('submitblock', [hex]);
        if (result === null) {
          logger.info({ hash }, 'block accepted by the node');
          return { accepted: true };
        }
        logger.warn({ hash, reason: result }, 'block rejected by the node');
        return { accepted: false, reason: String(result) };
      } catch (err) {
        // A found block is worth retrying through a blip; an RPC-level rejection is final.
        const retry = err instanceof BitcoinRpcError && (err.kind === 'timeout' || err.kind === 'unreachable') && attempt < SUBMIT_ATTEMPTS;
        logger.error({ hash, attempt, err: (err as Error).message }, 'submitblock failed');
        if (!retry) return { accepted: false, reason: (err as Error).message };
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  return {
    kind: 'gbt',
    get label() {
      return `node getblocktemplate at ${hostPort}${current ? ` (height ${current.height})` : ''}`;
    },
    get connected() {
      return connected && running;
    },
    onTemplate(listener) {
      listeners.push(listener);
    },
    async start() {
      if (running) return;
      // Checked here so that a too-long tag fails start, not the first poll.
      buildCoinbaseParts({ height: 1 << 24, valueSats: 0n, payoutScript: options.payoutScript, extranonceSize, ...(tag ? { tag } : {}) });
      running = true;
      try {
        await pollOnce();
      } catch (err) {
        running = false;
        throw err;
      }
      schedule(pollIntervalMs);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await polling;
      connected = false;
    },
    async submit(share: ForwardedShare): Promise<SubmitOutcome> {
      const template = share.template;
      const hash = sha256d(share.header);
      if (hashValue(hash) > bitsToTarget(template.bits)) return { accepted: false, reason: 'below network target' };
      const context = template.sourceJobId === undefined ? undefined : contexts.get(template.sourceJobId);
      if (!context) return { accepted: false, reason: 'template too old: its transactions are no longer kept' };
      if (share.extranonce.length !== template.extranonceSize) {
        return { accepted: false, reason: `extranonce is ${share.extranonce.length} bytes, template has ${template.extranonceSize}` };
      }
      const coinbase = concatBytes(template.coinb1, share.extranonce, template.coinb2);
      // The block must commit to exactly this coinbase; a mismatch is a gateway bug, not a block.
      const root = merkleRootFromBranch(sha256d(coinbase), template.merkleBranch);
      if (bytesToHex(root) !== bytesToHex(share.header.subarray(36, 68))) {
        return { accepted: false, reason: 'header merkle root does not match the template coinbase' };
      }
      const block = serializeBlock(share.header, context.segwit ? coinbaseWithWitness(coinbase) : coinbase, context.transactions);
      const outcome = await submitBlock(bytesToHex(block), bytesToHex(reverseBytes(hash)));
      schedule(0); // the tip has (probably) moved: fetch the next template now
      return outcome;
    },
  };
}
