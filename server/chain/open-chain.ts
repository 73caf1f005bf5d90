import { Contract, JsonRpcProvider, Wallet } from 'ethers';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import { connectDao, readDeployment, type DaoDeployment } from './deploy.js';
import { TxSender } from './tx-sender.js';

/** One key's view of the DAO contracts, and the queue its transactions go through. */
export interface ChainActor {
  readonly address: string;
  readonly distributor: Contract;
  readonly governor: Contract;
  readonly treasury: Contract;
  readonly token: Contract;
  readonly sender: TxSender;
}

/** The gateway's connection to the settlement chain. */
export interface DaoChain {
  readonly provider: JsonRpcProvider;
  readonly deployment: DaoDeployment;
  readonly chainId: number;
  /** What browsers read the chain from. */
  readonly publicRpcUrl: string;
  readonly token: { address: string; symbol: string; decimals: number };
  /** Posts epoch roots (holds PUBLISHER_ROLE and the reward funds). */
  readonly publisher: ChainActor;
  /** Pays the gas of relayed votes, claims and proposals; the same actor when the keys match. */
  readonly relayer: ChainActor;
  close(): void;
}

/**
 * Connects to the chain of `config`: reads the deployment file, checks that the node serves the
 * chain it names and that the contracts are there, and checks that the publisher key holds
 * PUBLISHER_ROLE, so a misconfiguration stops the start with a clear message rather than failing
 * at the first epoch close.
 */
export async function openDaoChain(config: GatewayConfig, log: Logger): Promise<DaoChain> {
  const deployment = readDeployment(config.chainDeploymentFile);
  // No response cache: the wallet reads the pending nonce through it, and a cached count would
  // give two quick transactions from one key the same nonce.
  const provider = new JsonRpcProvider(config.chainRpcUrl, undefined, { staticNetwork: true, pollingInterval: 500, cacheTimeout: -1 });
  try {
    let chainId: number;
    try {
      chainId = Number((await provider.getNetwork()).chainId);
    } catch (err) {
      throw new Error(`chain RPC ${config.chainRpcUrl} does not answer: ${(err as Error).message}`);
    }
    if (chainId !== deployment.chainId) {
      throw new Error(`chain RPC ${config.chainRpcUrl} serves chain ${chainId}, but ${config.chainDeploymentFile} is for chain ${deployment.chainId}`);
    }
    for (const [name, address] of [['token', deployment.token], ['distributor', deployment.distributor], ['governor', deployment.governor], ['treasury', deployment.treasury]] as const) {
      if ((await provider.getCode(address)) === '0x') {
        throw new Error(`no contract at the ${name} address ${address} on chain ${chainId}: redeploy, or fix ${config.chainDeploymentFile}`);
      }
    }
    const actor = (key: string): ChainActor => {
      const wallet = new Wallet(key, provider);
      return { address: wallet.address, ...connectDao(deployment, wallet), sender: new TxSender(wallet.address) };
    };
    const publisher = actor(config.publisherKey);
    const relayer = !config.relayerKey || config.relayerKey === config.publisherKey ? publisher : actor(config.relayerKey);
    const role = (await publisher.distributor.getFunction('PUBLISHER_ROLE')()) as string;
    if (!((await publisher.distributor.getFunction('hasRole')(role, publisher.address)) as boolean)) {
      throw new Error(`the publisher key (address ${publisher.address}) does not hold PUBLISHER_ROLE on the distributor ${deployment.distributor}`);
    }
    const [symbol, decimals] = (await Promise.all([publisher.token.getFunction('symbol')(), publisher.token.getFunction('decimals')()])) as [string, bigint];
    log.info({ chainId, rpc: config.chainRpcUrl, distributor: deployment.distributor, governor: deployment.governor, publisher: publisher.address, relayer: relayer.address }, 'connected to the settlement chain');
    return {
      provider,
      deployment,
      chainId,
      publicRpcUrl: config.chainPublicRpcUrl,
      token: { address: deployment.token, symbol, decimals: Number(decimals) },
      publisher,
      relayer,
      close: () => provider.destroy(),
    };
  } catch (err) {
    provider.destroy();
    throw err;
  }
}
