#!/usr/bin/env node
// `dao-audit epoch N --gateway URL [--rpc URL]`: recomputes an epoch from its audit bundle. TypeScript under cli/,
// compiled by "npm run build".
import { existsSync } from 'node:fs';

const entry = new URL('../build/node/cli/dao-audit.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('dao-audit: not built yet: run "npm run build" first');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
