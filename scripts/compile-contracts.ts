// Compiles contracts/*.sol with solc-js into build/contracts/<Name>.json ({ abi, bytecode }).
// The compiler and the EVM version are pinned here and checked, so every machine produces the
// same bytecode: solc-js is the exact npm version in package-lock.json.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOLC_VERSION = '0.8.30';
const EVM_VERSION = 'cancun';

const require = createRequire(import.meta.url);
const solc = require('solc') as { version(): string; compile(input: string, options?: { import(path: string): { contents: string } | { error: string } }): string };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'contracts');
const outDir = join(root, 'build', 'contracts');

function solidityFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return solidityFiles(path);
    return entry.name.endsWith('.sol') ? [path] : [];
  });
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(path.startsWith('@') ? require.resolve(path) : join(sourceDir, path), 'utf8') };
  } catch {
    return { error: `cannot find ${path}` };
  }
}

if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
  throw new Error(`solc ${solc.version()} is installed but the contracts are pinned to ${SOLC_VERSION}: run npm ci`);
}

const sources = Object.fromEntries(
  solidityFiles(sourceDir).map((file) => [relative(sourceDir, file), { content: readFileSync(file, 'utf8') }]),
);
const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
};
const problems = output.errors ?? [];
for (const problem of problems) console.error(problem.formattedMessage);
if (problems.some((p) => p.severity === 'error')) process.exit(1);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  // Libraries pulled in from OpenZeppelin are compiled too, but are not ours to deploy.
  if (!(file in sources)) continue;
  for (const [name, artifact] of Object.entries(contracts)) {
    // Interfaces have no bytecode; their ABI is part of the contracts that implement them.
    if (!artifact.evm.bytecode.object) continue;
    const json = { contractName: name, sourceName: `contracts/${file}`, solcVersion: SOLC_VERSION, evmVersion: EVM_VERSION, abi: artifact.abi, bytecode: `0x${artifact.evm.bytecode.object}` };
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  }
}
console.log(`compiled ${Object.keys(sources).length} Solidity files with solc ${SOLC_VERSION} (evm ${EVM_VERSION}) into ${relative(root, outDir)}/`);
