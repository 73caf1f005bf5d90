import { benchCommand } from './commands/bench.js';
import { hashCommand } from './commands/hash.js';
import { mineCommand } from './commands/mine.js';
import { scanCommand } from './commands/scan.js';
import { shareCommand } from './commands/share.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: dao-miner <command> [options]

  hash  --header HEX160                       the block hash (display order)
  scan  --header HEX160 --target HEX64 [--start N] [--count N] [--engine wasm|wasm-simd|webgpu] [--threads N]
                                              one JSON line per nonce meeting the target, then a summary
  share --notify JSON --extranonce1 HEX --submit JSON [--version-mask HEX] [--difficulty D]
                                              verify a share from a mining.notify and a mining.submit
  bench [--engine E] [--threads N] [--seconds S] [--json]
                                              hash rates of our engines and of peer libraries
  mine  --pool ws://HOST:PORT/stratum|stratum+tcp://HOST:PORT --address 0x... [--worker W]
        [--threads N] [--engine E] [--seconds S]
                                              contribute to the pool from this machine`;

const COMMANDS: Record<string, (argv: string[]) => void | Promise<void>> = {
  hash: hashCommand,
  scan: scanCommand,
  share: shareCommand,
  bench: benchCommand,
  mine: mineCommand,
};

/** Runs the CLI; returns the exit status. Bad input is one line on stderr and status 2. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}" (expected ${Object.keys(COMMANDS).join(', ')})`);
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`dao-miner: ${err.message}`);
      return 2;
    }
    // Anything else is an environment problem (no GPU adapter, missing build): one line, status 1.
    console.error(`dao-miner: ${(err as Error).message}`);
    return 1;
  }
}
