// What the gateway, the browser and the tests share about the on-chain DAO: pure, no I/O.
export * from './reward-split.js';
export * from './reward-tree.js';
export * from './typed-data.js';
export * from './proposals.js';
export * from './spending.js';
export * from './treasury.js';
export * from './log-scan.js';
