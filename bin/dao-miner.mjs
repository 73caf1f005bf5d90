#!/usr/bin/env node
// The dao-miner CLI. The code is TypeScript under cli/, compiled by "npm run build".
import { existsSync } from 'node:fs';

const entry = new URL('../build/node/cli/dao-miner.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('dao-miner: not built yet: run "npm run build" first');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
