/** The protocol library: pure, isomorphic functions shared by the browser, the CLI and the gateway. */
export * from './errors.js';
export * from './hex.js';
export * from './sha256.js';
export * from './target.js';
export * from './header.js';
export * from './merkle.js';
export * from './stratum-job.js';
export * from './share.js';
export * from './coinbase.js';
export * from './backoff.js';
export * from './stratum/errors.js';
export * from './stratum/codec.js';
export * from './stratum/subscription.js';
export * from './stratum/client-core.js';
export * from './stratum/handshake.js';
