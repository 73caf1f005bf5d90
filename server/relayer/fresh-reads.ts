// Contract reads that always reach the node. ethers' JsonRpcProvider answers a request identical to
// one made in the last 250 ms (cacheTimeout) from memory; for the relayer that would be a wrong
// answer just after its own transaction: hasVoted still false, claimed still 0, proposalCount one
// short, a static call passing that now reverts. provider.send is never cached, so reads go there.
import { Contract, resolveAddress, type ContractRunner, type JsonRpcProvider } from 'ethers';
import type { ChainActor } from '../chain/open-chain.js';

/** A runner whose eth_calls go straight to the node, as `from` (so static calls see the relayer as caller). */
export function uncachedRunner(provider: JsonRpcProvider, from: string): ContractRunner {
  return {
    provider,
    async call(tx) {
      if (tx.to == null) throw new Error('a read needs a contract address');
      const request = { from, to: await resolveAddress(tx.to), data: tx.data ?? '0x' };
      return (await provider.send('eth_call', [request, 'latest'])) as string;
    },
  };
}

/** The actor's governor, distributor and treasury for reads and static calls. */
export interface FreshReads {
  governor: Contract;
  distributor: Contract;
  treasury: Contract;
}

export function freshReads(provider: JsonRpcProvider, actor: ChainActor): FreshReads {
  const runner = uncachedRunner(provider, actor.address);
  return {
    governor: actor.governor.connect(runner) as Contract,
    distributor: actor.distributor.connect(runner) as Contract,
    treasury: actor.treasury.connect(runner) as Contract,
  };
}
