#!/usr/bin/env node
// The dao-gateway pool gateway. The code is TypeScript under server/ and cli/, compiled by "npm run build".
import { existsSync } from 'node:fs';

const entry = new URL('../build/node/cli/dao-gateway.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('dao-gateway: not built yet: run "npm run build" first');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
