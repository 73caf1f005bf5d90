#!/usr/bin/env node
// `npm start`: a local chain, the DAO contracts and the gateway together. TypeScript under cli/,
// compiled by "npm run build".
import { existsSync } from 'node:fs';

const entry = new URL('../build/node/cli/dao-local.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('dao-local: not built yet: run "npm run build" first');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
