import { blockHash, headerFromHex } from '../../protocol/header.js';
import { fromOption, parseOptions, required } from '../args.js';

/** `dao-miner hash --header HEX160`: the block hash, display order. */
export function hashCommand(argv: string[]): void {
  const opts = parseOptions(argv, { header: { type: 'string' } });
  const header = fromOption('header', () => headerFromHex(required(opts.header, 'header')));
  console.log(blockHash(header));
}
