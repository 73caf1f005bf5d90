import { jitteredBackoffMs, type BackoffPolicy } from '../../protocol/backoff.js';
import { bytesToHex, concatBytes, hexToBytes, hexToU32, u32ToHex } from '../../protocol/hex.js';
import { StratumRpcError } from '../../protocol/stratum/errors.js';
import { stratumHandshake } from '../../protocol/stratum/handshake.js';
import { parseExtranonce } from '../../protocol/stratum/subscription.js';
import { parseNotifyParams } from '../../protocol/stratum-job.js';
import { difficultyToTarget } from '../../protocol/target.js';
import type { WorkLogger } from './gbt-source.js';
import { connectStratum, parseStratumUrl, type StratumClient } from './stratum-client.js';
import type { ForwardedShare, SubmitOutcome, WorkSource, WorkTemplate } from './work-source.js';

/**
 * Work relayed from an upstream Stratum V1 pool. The gateway is one miner to the upstream: the
 * upstream's extranonce1 is folded into coinb1, so the gateway's extranonce slot is exactly the
 * upstream's extranonce2, which the gateway splits between its sessions.
 */

export interface UpstreamSourceOptions {
  /** `stratum+tcp://USER:PASS@HOST:PORT`. */
  url: string;
  userAgent?: string;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Negotiate BIP310 version rolling (mining.configure) with the upstream. */
  versionRolling?: boolean;
  /** The mask asked for; the upstream may grant less. Default 0x1fffe000 (BIP320's general-purpose bits). */
  requestedVersionMask?: number;
  requestTimeoutMs?: number;
  /** start() rejects when no job arrives within this. */
  startTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** A share held while the upstream is away resolves as not accepted after this long. */
  queuedShareTtlMs?: number;
  maxQueuedShares?: number;
  logger?: WorkLogger;
}

export interface UpstreamSource extends WorkSource {
  /** The BIP310 mask the upstream granted (0: no version rolling). Sessions must roll inside it. */
  readonly versionMask: number;
  /** The upstream's current share difficulty. */
  readonly difficulty: number;
}

/** Where a template came from: a share can go upstream only on a session with the same extranonce1. */
interface Origin {
  extranonce1Hex: string;
  prevhashHex: string;
}

interface QueuedShare {
  share: ForwardedShare;
  origin: Origin;
  resolve(outcome: SubmitOutcome): void;
  ttlTimer?: NodeJS.Timeout;
}

const STALE_AFTER_RECONNECT = 'stale after upstream reconnect';
const silentLogger: WorkLogger = { info() {}, warn() {}, error() {} };

export function createUpstreamSource(options: UpstreamSourceOptions): UpstreamSource {
  const url = parseStratumUrl(options.url);
  const hostPort = `${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}`;
  const logger = options.logger ?? silentLogger;
  const userAgent = options.userAgent ?? 'computing-power-dao-gateway/0.1';
  const backoff: BackoffPolicy = { initialMs: options.reconnect?.initialDelayMs ?? 1000, maxMs: options.reconnect?.maxDelayMs ?? 60_000 };
  const requestedMask = options.requestedVersionMask ?? 0x1fffe000;
  const queuedShareTtlMs = options.queuedShareTtlMs ?? 300_000;
  const maxQueuedShares = options.maxQueuedShares ?? 1000;

  const listeners: ((t: WorkTemplate) => void)[] = [];
  const origins = new WeakMap<WorkTemplate, Origin>();
  const queue: QueuedShare[] = [];
  let client: StratumClient | undefined;
  let stopped = true;
  /** The session is authorized and has delivered a job: its work is live. */
  let connected = false;
  let authorized = false;
  let extranonce1Hex = '';
  let extranonce2Size = 0;
  /** From the subscribe result; sent back on reconnect so a pool that supports it resumes our extranonce1. */
  let sessionId: string | undefined;
  let difficulty = 1;
  let versionMask = 0;
  let lastEmitted: Origin | undefined;
  let pendingNotifies: unknown[][] = [];
  let reconnectAttempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** Set by client.reconnect: the next connection goes there, after the wait the pool asked for. */
  let redirect: { port: number; delayMs: number } | undefined;
  let startWaiter: { resolve(): void; reject(err: Error): void } | undefined;

  function handleNotify(params: unknown[]): void {
    let job;
    try {
      job = parseNotifyParams(params);
    } catch (err) {
      logger.warn({ upstream: hostPort, err: (err as Error).message }, 'ignoring a malformed mining.notify');
      return;
    }
    const origin: Origin = { extranonce1Hex, prevhashHex: bytesToHex(job.prevhash) };
    // Jobs under another extranonce1 or prevhash cannot be forwarded any more: make miners switch
    // now, even if the upstream said clean_jobs false (e.g. after a reconnect).
    const cleanJobs =
      job.cleanJobs || (lastEmitted !== undefined && (lastEmitted.prevhashHex !== origin.prevhashHex || lastEmitted.extranonce1Hex !== origin.extranonce1Hex));
    const template: WorkTemplate = {
      prevhash: job.prevhash,
      coinb1: concatBytes(job.coinb1, hexToBytes(extranonce1Hex, 'extranonce1')),
      coinb2: job.coinb2,
      extranonceSize: extranonce2Size,
      merkleBranch: job.merkleBranch,
      version: job.version,
      bits: job.bits,
      ntime: job.ntime,
      cleanJobs,
      forwardTarget: difficultyToTarget(difficulty),
      sourceJobId: job.jobId,
    };
    origins.set(template, origin);
    lastEmitted = origin;
    const firstOfSession = !connected;
    connected = true;
    reconnectAttempt = 0;
    for (const listener of listeners) listener(template);
    if (firstOfSession) flushQueue(origin.prevhashHex);
    startWaiter?.resolve();
    startWaiter = undefined;
  }

  function handleNotification(method: string, params: unknown[]): void {
    switch (method) {
      case 'mining.notify':
        // Jobs can arrive before authorize answers; they are ours only once it says yes.
        if (authorized) handleNotify(params);
        else pendingNotifies.push(params);
        return;
      case 'mining.set_difficulty':
        try {
          difficultyToTarget(params[0] as number); // validates
          difficulty = Number(params[0]);
        } catch (err) {
          logger.warn({ upstream: hostPort, err: (err as Error).message }, 'ignoring a bad mining.set_difficulty');
        }
        return;
      case 'mining.set_extranonce':
        try {
          const extranonce = parseExtranonce(params[0], params[1]);
          extranonce1Hex = bytesToHex(extranonce.extranonce1);
          extranonce2Size = extranonce.extranonce2Size;
          logger.info({ upstream: hostPort, extranonce1: extranonce1Hex, extranonce2Size }, 'upstream changed the extranonce');
        } catch (err) {
          logger.warn({ upstream: hostPort, err: (err as Error).message }, 'ignoring a bad mining.set_extranonce');
        }
        return;
      case 'mining.set_version_mask':
        try {
          versionMask = (hexToU32(params[0], 'version_mask') & requestedMask) >>> 0;
        } catch (err) {
          logger.warn({ upstream: hostPort, err: (err as Error).message }, 'ignoring a bad mining.set_version_mask');
        }
        return;
      case 'client.reconnect':
        handleReconnectRequest(params);
        return;
      case 'client.show_message':
        logger.info({ upstream: hostPort, message: String(params[0]) }, 'upstream message');
        return;
    }
  }

  /** Same host: follow the port it names. Another host: we do not follow (our config names the pool), so reconnect to the URL. */
  function handleReconnectRequest(params: unknown[]): void {
    const [host, port, waitS] = params;
    const sameHost = host === undefined || host === null || host === '' || String(host).toLowerCase() === url.host.toLowerCase();
    const portNumber = Number(port);
    const validPort = Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535 ? portNumber : url.port;
    const delayMs = Math.min(backoff.maxMs, Math.max(0, Number(waitS) * 1000 || 0));
    if (!sameHost) logger.warn({ upstream: hostPort, asked: String(host) }, 'upstream asked to reconnect to another host; reconnecting to the configured pool');
    redirect = { port: sameHost ? validPort : url.port, delayMs };
    logger.info({ upstream: hostPort, port: redirect.port, delayMs }, 'upstream asked us to reconnect');
    client?.close();
  }

  /** One connection through configure / subscribe / authorize. Throws why it failed, leaving nothing open. */
  async function connectOnce(): Promise<void> {
    const port = redirect?.port ?? url.port;
    redirect = undefined;
    const c = await connectStratum({
      host: url.host,
      port,
      userAgent,
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    });
    if (stopped) return c.close();
    client = c;
    authorized = false;
    pendingNotifies = [];
    let established = false;
    c.onNotification((method, params) => {
      if (client === c) handleNotification(method, params);
    });
    c.onClose((reason) => {
      if (client === c && established) onSessionClosed(reason);
    });
    try {
      const session = await stratumHandshake(c, {
        pool: `upstream pool ${hostPort}`,
        userAgent,
        user: url.user,
        password: url.password,
        ...(sessionId ? { subscriptionId: sessionId } : {}),
        ...(options.versionRolling ? { versionMask: requestedMask } : {}),
      });
      extranonce1Hex = bytesToHex(session.extranonce1);
      extranonce2Size = session.extranonce2Size;
      if (session.subscriptionId) sessionId = session.subscriptionId;
      // The old mask stands until a new one is granted, so queued shares keep theirs meanwhile.
      if (session.versionMask !== undefined) versionMask = session.versionMask;
      if (options.versionRolling && versionMask === 0) logger.warn({ upstream: hostPort }, 'upstream did not grant version rolling');
      authorized = true;
      established = true;
      logger.info({ upstream: hostPort, extranonce1: extranonce1Hex, extranonce2Size, versionMask: u32ToHex(versionMask) }, 'upstream session ready');
      const notifies = pendingNotifies;
      pendingNotifies = [];
      for (const params of notifies) handleNotify(params);
    } catch (err) {
      if (client === c) client = undefined;
      authorized = false;
      c.close();
      throw err;
    }
  }

  function onSessionClosed(reason: string): void {
    client = undefined;
    connected = false;
    authorized = false;
    if (stopped) return;
    logger.warn({ upstream: hostPort, reason }, 'upstream connection lost; miners keep the last job');
    scheduleReconnect(redirect ? redirect.delayMs : jitteredBackoffMs(reconnectAttempt++, backoff, Math.random));
  }

  function scheduleReconnect(delayMs: number): void {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(() => {
      connectOnce().catch((err: unknown) => {
        const delay = jitteredBackoffMs(reconnectAttempt++, backoff, Math.random);
        logger.warn({ upstream: hostPort, err: (err as Error).message, retryInMs: delay }, 'upstream reconnect failed');
        scheduleReconnect(delay);
      });
    }, delayMs);
  }

  /**
   * mining.submit params for a share, built when it is sent: the version bits depend on the mask of
   * the session that carries it. BIP310: version_bits are the header's bits inside the mask; the
   * pool computes (job_version & ~mask) | (version_bits & mask).
   */
  function submitParams(share: ForwardedShare): unknown[] | string {
    const { template } = share;
    const params: unknown[] = [url.user, template.sourceJobId, bytesToHex(share.extranonce), u32ToHex(share.ntime), u32ToHex(share.nonce)];
    const rolled = (share.version ^ template.version) >>> 0;
    if ((rolled & ~versionMask) !== 0) return `version ${u32ToHex(share.version)} rolls bits outside the upstream mask ${u32ToHex(versionMask)}`;
    if (versionMask !== 0) params.push(u32ToHex((share.version & versionMask) >>> 0));
    return params;
  }

  function send(item: QueuedShare): void {
    const c = client;
    if (!c || !connected) return enqueue(item);
    const params = submitParams(item.share);
    if (typeof params === 'string') return item.resolve({ accepted: false, reason: params });
    c.request('mining.submit', params).then(
      (result) => item.resolve(result === true ? { accepted: true } : { accepted: false, reason: `upstream answered ${JSON.stringify(result)}` }),
      (err: Error) => {
        if (err instanceof StratumRpcError) return item.resolve({ accepted: false, reason: err.message });
        if (stopped) return item.resolve({ accepted: false, reason: err.message });
        if (!c.closed) {
          // No answer in time on an open connection: a black hole (a dead peer or path that sent no
          // reset), which the idle timeout would notice only minutes later. Drop it and reconnect.
          logger.warn({ upstream: hostPort, err: err.message }, 'upstream did not answer a share; reconnecting');
          c.close();
        }
        // The share is still good: send it again on the next session (a copy that did arrive is refused there as a duplicate).
        enqueue(item);
      },
    );
  }

  function enqueue(item: QueuedShare): void {
    if (queue.length >= maxQueuedShares) {
      logger.warn({ upstream: hostPort }, 'upstream away and the share queue is full; share not forwarded');
      return item.resolve({ accepted: false, reason: 'upstream away and the share queue is full' });
    }
    item.ttlTimer = setTimeout(() => {
      const i = queue.indexOf(item);
      if (i >= 0) queue.splice(i, 1);
      logger.warn({ upstream: hostPort, jobId: item.share.template.sourceJobId }, 'upstream away too long; queued share not forwarded');
      item.resolve({ accepted: false, reason: `upstream away for more than ${queuedShareTtlMs} ms` });
    }, queuedShareTtlMs);
    item.ttlTimer.unref();
    queue.push(item);
  }

  /** On a session's first job: queued shares go out if their work is still what the upstream mines on. */
  function flushQueue(prevhashHex: string): void {
    for (const item of queue.splice(0)) {
      clearTimeout(item.ttlTimer);
      if (item.origin.prevhashHex === prevhashHex && item.origin.extranonce1Hex === extranonce1Hex) {
        send(item);
      } else {
        const why = item.origin.prevhashHex !== prevhashHex ? 'the previous block changed' : 'the upstream gave a new extranonce1';
        logger.warn({ upstream: hostPort, jobId: item.share.template.sourceJobId, why }, 'queued share dropped: stale after upstream reconnect');
        item.resolve({ accepted: false, reason: STALE_AFTER_RECONNECT });
      }
    }
  }

  async function stop(): Promise<void> {
    stopped = true;
    clearTimeout(reconnectTimer);
    const c = client;
    client = undefined;
    connected = false;
    authorized = false;
    c?.close();
    for (const item of queue.splice(0)) {
      clearTimeout(item.ttlTimer);
      item.resolve({ accepted: false, reason: 'work source stopped' });
    }
    startWaiter?.reject(new Error(`upstream pool ${hostPort}: stopped before the first job`));
    startWaiter = undefined;
  }

  return {
    kind: 'stratum',
    label: `upstream pool ${hostPort}`,
    get connected() {
      return connected;
    },
    get versionMask() {
      return versionMask;
    },
    get difficulty() {
      return difficulty;
    },
    onTemplate(listener) {
      listeners.push(listener);
    },
    async start() {
      if (!stopped) return;
      stopped = false;
      const firstJob = new Promise<void>((resolve, reject) => (startWaiter = { resolve, reject }));
      firstJob.catch(() => {}); // awaited below only once connected; a failure before that is thrown from connectOnce
      const startTimeoutMs = options.startTimeoutMs ?? 30_000;
      const timer = setTimeout(() => startWaiter?.reject(new Error(`upstream pool ${hostPort} sent no job within ${startTimeoutMs} ms`)), startTimeoutMs);
      try {
        await connectOnce();
        await firstJob;
      } catch (err) {
        await stop();
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    stop,
    submit(share: ForwardedShare): Promise<SubmitOutcome> {
      const template = share.template;
      const origin = origins.get(template);
      // The origin is keyed by the template object: the gateway must hand back the object it got.
      if (!origin || template.sourceJobId === undefined) return Promise.resolve({ accepted: false, reason: 'template did not come from this upstream source' });
      if (share.extranonce.length !== template.extranonceSize) {
        return Promise.resolve({ accepted: false, reason: `extranonce is ${share.extranonce.length} bytes, upstream extranonce2 is ${template.extranonceSize}` });
      }
      return new Promise((resolve) => {
        if (connected && origin.extranonce1Hex !== extranonce1Hex) {
          logger.warn({ upstream: hostPort, jobId: template.sourceJobId }, 'share for a job under an old extranonce1 not forwarded');
          return resolve({ accepted: false, reason: 'stale: the upstream extranonce changed' });
        }
        send({ share, origin, resolve });
      });
    },
  };
}
