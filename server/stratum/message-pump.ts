import { encodeError, parseMessage } from '../../protocol/stratum/codec.js';
import { StratumCode, StratumError } from '../../protocol/stratum/errors.js';
import type { StratumSession } from './session.js';
import type { Offence } from './strike-counter.js';

export interface PumpLimits {
  /** Sustained messages per second a connection may send... */
  messagesPerSecond: number;
  /** ...with bursts up to this many. */
  burst: number;
}

/**
 * Feeds one connection's messages to its session in arrival order: a token bucket limits the
 * rate, the requests in flight are bounded, and malformed or over-limit messages are answered
 * with an error and reported as strikes (the caller bans). Shared by both transports.
 */
export class MessagePump {
  private tokens: number;
  private lastRefillMs: number;
  private pending = 0;

  constructor(
    private readonly session: StratumSession,
    private readonly limits: PumpLimits,
    /** A malformed or over-limit message. */
    private readonly onStrike: (offence: Extract<Offence, 'malformed' | 'flood'>) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.burst;
    this.lastRefillMs = now();
  }

  receive(text: string): void {
    if (!this.takeToken()) {
      this.refuse(null, 'rate limit exceeded, slow down', 'flood');
      return;
    }
    const parsed = parseMessage(text);
    if (parsed.kind === 'response') return;
    if (parsed.kind === 'invalid') {
      this.refuse(parsed.id, parsed.error.message, 'malformed');
      return;
    }
    // Bounded: a client that pipelines without reading answers is refused, not buffered forever.
    if (this.pending >= this.limits.burst) {
      this.refuse(parsed.request.id, 'too many requests in flight', 'flood', parsed.request.method);
      return;
    }
    // Not awaited: the session checks each message synchronously in arrival order, and only the
    // ledger commit is waited for, so a pipelining miner shares one group commit across its shares.
    this.pending++;
    void this.session.handle(parsed.request).finally(() => this.pending--);
  }

  private refuse(id: string | number | null, reason: string, offence: Extract<Offence, 'malformed' | 'flood'>, method?: string): void {
    this.session.connection.send(encodeError(id, new StratumError(StratumCode.OTHER, reason), method));
    this.onStrike(offence);
  }

  private takeToken(): boolean {
    const nowMs = this.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((nowMs - this.lastRefillMs) / 1000) * this.limits.messagesPerSecond);
    this.lastRefillMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
