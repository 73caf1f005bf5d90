// A real anvil chain with the DAO deployed, for tests. The voting period is short (1 h) so tests
// can warp past it with evm_increaseTime instead of waiting.
import assert from 'node:assert/strict';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { Interface, JsonRpcProvider, Wallet, isCallException, type Contract, type ContractTransactionResponse, type TransactionReceipt } from 'ethers';
import { startAnvil, type Anvil } from '../../server/chain/anvil.js';
import { loadArtifact } from '../../server/chain/artifacts.js';
import { connectDao, deployDao, type DaoContracts, type DaoDeployment, type DeployDaoOptions } from '../../server/chain/deploy.js';
import { waitFor } from './wait-for.js';

export const TEST_VOTING_PERIOD_SECONDS = 3600;

export interface TestChain {
  anvil: Anvil;
  provider: JsonRpcProvider;
  /** Dev account 0: deployer, admin and publisher of `deployment`. */
  deployer: Wallet;
  deployment: DaoDeployment;
  /** `deployment`'s contracts, connected to the deployer. */
  contracts: DaoContracts;
  /** Dev accounts 1..9. */
  wallets: Wallet[];
  /** A fresh DAO on the same chain, for tests that need clean state (deploying takes milliseconds). */
  deploy(options?: DeployDaoOptions): Promise<{ deployment: DaoDeployment; contracts: DaoContracts }>;
  /** Moves the chain clock forward and mines a block, so the next view calls see the new time. */
  increaseTime(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestChain(options: DeployDaoOptions = {}): Promise<TestChain> {
  const anvil = await startAnvil();
  try {
    // The network is known, so ethers skips detection; no response cache (cacheTimeout -1) so a
    // read right after a time warp sees the new block; fast polling and no batching delay.
    const provider = new JsonRpcProvider(anvil.rpcUrl, anvil.chainId, {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
      batchMaxCount: 1,
    });
    const [first, ...rest] = anvil.accounts.map((account) => new Wallet(account.privateKey, provider));
    if (!first) throw new Error('anvil reported no accounts');
    const deploy = async (overrides: DeployDaoOptions = {}) => {
      const deployment = await deployDao(first, { votingPeriodSeconds: TEST_VOTING_PERIOD_SECONDS, ...options, ...overrides });
      return { deployment, contracts: connectDao(deployment, first) };
    };
    const { deployment, contracts } = await deploy();
    return {
      anvil,
      provider,
      deployer: first,
      deployment,
      contracts,
      wallets: rest,
      deploy,
      async increaseTime(seconds) {
        await provider.send('evm_increaseTime', [seconds]);
        await provider.send('evm_mine', []);
      },
      async stop() {
        provider.destroy();
        await anvil.stop();
      },
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

// ---------------------------------------------------------------- Merkle trees

/** A leaf as the distributor hashes it: totals since the DAO began, not one epoch's increment. */
export type LeafValue = [account: string, cumulativeWork: bigint, cumulativeReward: bigint];

/** What a member submits for a claim or a vote (the WorkGovernor.Leaf struct). */
export interface LeafProof {
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  proof: string[];
}

export interface WorkTree {
  root: string;
  totalWork: bigint;
  tree: StandardMerkleTree<LeafValue>;
  /** The leaf and proof of `account`; throws when it has no leaf. */
  leaf(account: string): LeafProof;
}

/** Built exactly as the gateway will: OpenZeppelin's StandardMerkleTree over (address, uint256, uint256). */
export function workTree(values: LeafValue[]): WorkTree {
  const tree = StandardMerkleTree.of(values, ['address', 'uint256', 'uint256']);
  return {
    root: tree.root,
    totalWork: values.reduce((sum, [, work]) => sum + work, 0n),
    tree,
    leaf(account) {
      for (const [index, [address, cumulativeWork, cumulativeReward]] of tree.entries()) {
        if (address.toLowerCase() === account.toLowerCase()) return { cumulativeWork, cumulativeReward, proof: tree.getProof(index) };
      }
      throw new Error(`no leaf for ${account}`);
    },
  };
}

// ---------------------------------------------------------------- transactions and reverts

/**
 * Waits for the transaction and asserts it succeeded. Polls for the receipt rather than using
 * tx.wait(): the contract fuzz test hung in wait() twice in about 2000 transactions, each time with
 * its transaction already mined, ethers waiting for a next block that an automining chain with
 * nothing more to send never makes. A receipt poll does not depend on new blocks.
 */
export async function mined(tx: Promise<ContractTransactionResponse>, timeoutMs = 30_000): Promise<TransactionReceipt> {
  const sent = await tx;
  const receipt = await waitFor(`transaction ${sent.hash} to be mined`, async () => (await sent.provider.getTransactionReceipt(sent.hash)) ?? undefined, timeoutMs, 5);
  assert.equal(receipt.status, 1, 'transaction reverted');
  return receipt;
}

/** The decoded `name` events that `contract` emitted in `receipt`, as plain arrays. */
export function eventsOf(receipt: TransactionReceipt, contract: Contract, name: string): unknown[][] {
  const address = String(contract.target).toLowerCase();
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args.toArray());
}

/**
 * Asserts that `promise` (a contract call or transaction) reverts with the custom error `name`
 * and, when given, exactly these arguments. Ethers decodes the revert data with the contract's
 * ABI while estimating gas, so no transaction is sent.
 */
export async function expectRevert(promise: Promise<unknown>, name: string, args?: readonly unknown[]): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  if (error === undefined) assert.fail(`expected revert ${name}, but the call succeeded`);
  if (!isCallException(error)) throw error;
  const revert = error.revert ?? decodeRevert(error.data);
  assert.ok(revert, `expected revert ${name}, got an undecoded call exception: ${error.shortMessage} (data ${error.data})`);
  assert.equal(revert.name, name, `expected revert ${name}, got ${revert.signature}`);
  if (args) assert.deepEqual(Array.from(revert.args, comparable), args.map(comparable), `arguments of ${name}`);
}

/**
 * Ethers decodes custom errors only for static calls; a reverted transaction (rejected while the
 * wallet estimates gas) carries just the raw data, so it is decoded here with the DAO's ABIs.
 */
function decodeRevert(data: string | null): { name: string; signature: string; args: readonly unknown[] } | null {
  if (!data) return null;
  for (const name of ['RewardDistributor', 'WorkGovernor', 'Treasury', 'TestRewardToken'] as const) {
    const parsed = new Interface(loadArtifact(name).abi).parseError(data);
    if (parsed) return { name: parsed.name, signature: parsed.signature, args: parsed.args.toArray() };
  }
  return null;
}

/** Addresses compare case-insensitively, numbers and bigints by value. */
export function comparable(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'bigint') return BigInt(value);
  if (typeof value === 'string') return value.toLowerCase();
  if (Array.isArray(value)) return value.map(comparable);
  return value;
}
