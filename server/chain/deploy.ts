// Deploys the DAO contracts (reward token when none is given, Treasury, RewardDistributor, WorkGovernor)
// and records where they are, so the gateway and the CLI can find them again.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Contract,
  ContractFactory,
  MaxUint256,
  getAddress,
  getCreateAddress,
  isAddress,
  type BaseContractMethod,
  type ContractRunner,
  type Signer,
  type TransactionReceipt,
} from 'ethers';
import { loadArtifact, type ContractName } from './artifacts.js';

export interface DaoDeployment {
  chainId: number;
  token: string;
  distributor: string;
  governor: string;
  /** The Treasury: receives each epoch's reinvested share, pays passed spending proposals. */
  treasury: string;
  /** Block of the first transaction of the deployment: where log scans start. */
  deployBlock: number;
  publisher: string;
}

export interface DeployDaoOptions {
  /** An existing ERC-20; when absent a TestRewardToken is deployed and minted to the deployer. */
  tokenAddress?: string;
  /** Minted to the deployer when the test token is deployed (default 10^9 tokens of 18 decimals). */
  testTokenSupply?: bigint;
  /** DEFAULT_ADMIN_ROLE of the distributor (default: the deployer). */
  admin?: string;
  /** PUBLISHER_ROLE of the distributor (default: the deployer). */
  publisher?: string;
  /** GUARDIAN_ROLE of the distributor, who may veto a root in its challenge period (default: the deployer). */
  guardian?: string;
  /** The initial challenge period of published roots, in seconds (default 0: final at once). */
  challengePeriodSeconds?: number;
  votingPeriodSeconds?: number;
  quorumBps?: number;
  reinvestmentBps?: number;
  /** How long a passed proposal stays executable after its vote ends (WorkGovernor.executionWindow). */
  executionWindowSeconds?: number;
  /** Called with each mined transaction (for logs and gas reports). */
  onTransaction?: (label: string, receipt: TransactionReceipt) => void;
}

export const DEFAULT_VOTING_PERIOD_SECONDS = 3 * 24 * 3600;
export const DEFAULT_QUORUM_BPS = 1000;
export const DEFAULT_REINVESTMENT_BPS = 1000;
export const DEFAULT_EXECUTION_WINDOW_SECONDS = 7 * 24 * 3600;
export const DEFAULT_TEST_TOKEN_SUPPLY = 10n ** 9n * 10n ** 18n;

// Ethers types a Contract's methods through an index signature, which noUncheckedIndexedAccess
// turns into "possibly undefined" at every call. Naming the ABI's functions gives callable
// properties (arguments stay untyped); a test checks these lists against the compiled ABIs.
export const TOKEN_FUNCTIONS = ['allowance', 'approve', 'balanceOf', 'decimals', 'name', 'symbol', 'totalSupply', 'transfer', 'transferFrom'] as const;
export const DISTRIBUTOR_FUNCTIONS = [
  'DEFAULT_ADMIN_ROLE', 'GOVERNOR_ROLE', 'GUARDIAN_ROLE', 'MAX_CHALLENGE_PERIOD', 'PUBLISHER_ROLE', 'challengeEndsAt', 'challengePeriod',
  'claim', 'claimMany', 'claimed', 'epochs', 'getRoleAdmin', 'grantRole', 'hasRole', 'isFinal',
  'latestEpoch', 'latestFinalEpoch', 'publishRoot', 'renounceRole', 'revokeRole', 'rewardToken', 'setChallengePeriod', 'supportsInterface',
  'totalWorkOf', 'treasury', 'verifyLeaf', 'vetoRoot', 'vetoedAt',
] as const;
export const GOVERNOR_FUNCTIONS = [
  'BALLOT_TYPEHASH', 'CHALLENGE_PERIOD_SECONDS', 'PROPOSAL_TYPEHASH', 'PROPOSAL_THRESHOLD_WORK', 'REINVESTMENT_BPS', 'castVote', 'castVoteBySig', 'castVotesBySig', 'domainSeparator',
  'eip712Domain', 'executableUntil', 'execute', 'executionWindow', 'getProposal', 'hasVoted', 'lastApplied', 'nonces', 'parameterMax', 'parameters',
  'proposalCount', 'propose',
  'proposeBySig', 'quorumBps', 'roots', 'spendingParameter', 'state', 'treasury', 'votingPeriod',
] as const;

type Methods<Names extends readonly string[]> = Contract & { [K in Names[number]]: BaseContractMethod };
export type TokenContract = Methods<typeof TOKEN_FUNCTIONS>;
export type DistributorContract = Methods<typeof DISTRIBUTOR_FUNCTIONS>;
export const TREASURY_FUNCTIONS = ['balance', 'checkSpending', 'governor', 'pay', 'token'] as const;
export type GovernorContract = Methods<typeof GOVERNOR_FUNCTIONS>;
export type TreasuryContract = Methods<typeof TREASURY_FUNCTIONS>;

export interface DaoContracts {
  token: TokenContract;
  distributor: DistributorContract;
  governor: GovernorContract;
  treasury: TreasuryContract;
}

/**
 * Sends every transaction after the previous one is mined, so the signer's next nonce is always
 * the chain's pending nonce (no NonceManager needed, also under interval mining).
 */
export async function deployDao(signer: Signer, options: DeployDaoOptions = {}): Promise<DaoDeployment> {
  if (!signer.provider) throw new Error('deployDao needs a signer connected to a provider');
  const deployer = await signer.getAddress();
  const chainId = Number((await signer.provider.getNetwork()).chainId);
  const admin = checkedAddress(options.admin ?? deployer, 'admin');
  const publisher = checkedAddress(options.publisher ?? deployer, 'publisher');
  const report = options.onTransaction ?? (() => {});
  let deployBlock: number | undefined;

  const deploy = async (name: ContractName, args: unknown[]): Promise<Contract> => {
    const { abi, bytecode } = loadArtifact(name);
    const contract = (await new ContractFactory(abi, bytecode, signer).deploy(...args)) as Contract;
    const receipt = await contract.deploymentTransaction()?.wait();
    if (!receipt || receipt.status !== 1) throw new Error(`deploying ${name} failed`);
    deployBlock ??= receipt.blockNumber;
    report(`deploy ${name}`, receipt);
    return contract;
  };

  let token: string;
  let testToken: Contract | undefined;
  if (options.tokenAddress !== undefined) {
    token = checkedAddress(options.tokenAddress, 'tokenAddress');
    // Catches a wrong address (or a wrong chain) now instead of at the first publishRoot.
    if ((await signer.provider.getCode(token)) === '0x') throw new Error(`no contract at tokenAddress ${token} on chain ${chainId}`);
  } else {
    testToken = await deploy('TestRewardToken', [deployer, options.testTokenSupply ?? DEFAULT_TEST_TOKEN_SUPPLY]);
    token = await testToken.getAddress();
  }
  const guardian = checkedAddress(options.guardian ?? deployer, 'guardian');
  // The treasury needs the governor's address, the distributor the treasury's (and grants the
  // governor GOVERNOR_ROLE itself, with no transaction by the admin, who may not be the deployer),
  // and the governor the distributor's: the governor's address is predicted from the deployer's
  // nonce (it is the third contract from here, as transactions go one after another), and the
  // governor's constructor refuses a treasury that does not name it.
  const nonce = await signer.getNonce('pending');
  const predictedGovernor = getCreateAddress({ from: deployer, nonce: nonce + 2 });
  const treasury = await deploy('Treasury', [token, predictedGovernor]);
  const treasuryAddress = await treasury.getAddress();
  const distributor = await deploy('RewardDistributor', [
    token, admin, publisher, treasuryAddress, predictedGovernor, guardian, options.challengePeriodSeconds ?? 0,
  ]);
  const distributorAddress = await distributor.getAddress();
  const governor = await deploy('WorkGovernor', [
    distributorAddress,
    options.votingPeriodSeconds ?? DEFAULT_VOTING_PERIOD_SECONDS,
    options.quorumBps ?? DEFAULT_QUORUM_BPS,
    options.reinvestmentBps ?? DEFAULT_REINVESTMENT_BPS,
    options.executionWindowSeconds ?? DEFAULT_EXECUTION_WINDOW_SECONDS,
    treasuryAddress,
  ]);
  if ((await governor.getAddress()) !== predictedGovernor) {
    throw new Error(`the governor was deployed at ${await governor.getAddress()}, not at ${predictedGovernor} which the treasury and the distributor trust: another transaction of the deployer came in between; deploy again`);
  }

  // publishRoot pulls each epoch's funding from the publisher; on a local chain the deployer holds
  // the whole test supply, so it pre-approves the distributor once.
  if (testToken && publisher === getAddress(deployer)) {
    const tx = await testToken.getFunction('approve')(distributorAddress, MaxUint256);
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new Error('approving the distributor failed');
    report('approve distributor', receipt);
  }

  return {
    chainId,
    token,
    distributor: distributorAddress,
    governor: await governor.getAddress(),
    treasury: treasuryAddress,
    deployBlock: deployBlock!,
    publisher,
  };
}

/** Contract handles on `runner` (a provider for reads, a signer for transactions). */
export function connectDao(deployment: DaoDeployment, runner: ContractRunner): DaoContracts {
  return {
    token: new Contract(deployment.token, loadArtifact('TestRewardToken').abi, runner) as TokenContract,
    distributor: new Contract(deployment.distributor, loadArtifact('RewardDistributor').abi, runner) as DistributorContract,
    governor: new Contract(deployment.governor, loadArtifact('WorkGovernor').abi, runner) as GovernorContract,
    treasury: new Contract(deployment.treasury, loadArtifact('Treasury').abi, runner) as TreasuryContract,
  };
}

export function writeDeployment(file: string, deployment: DaoDeployment): void {
  writeFileSync(file, JSON.stringify(deployment, null, 2) + '\n');
}

export function readDeployment(file: string): DaoDeployment {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read deployment file ${file}: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`deployment file ${file} must hold a JSON object`);
  }
  const record = json as Record<string, unknown>;
  const address = (field: keyof DaoDeployment): string => {
    const value = record[field];
    if (typeof value !== 'string' || !isAddress(value)) {
      throw new Error(`deployment file ${file}: field "${field}" must be an address, got ${JSON.stringify(value)}`);
    }
    return getAddress(value);
  };
  const integer = (field: keyof DaoDeployment, min: number): number => {
    const value = record[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new Error(`deployment file ${file}: field "${field}" must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    chainId: integer('chainId', 1),
    token: address('token'),
    distributor: address('distributor'),
    governor: address('governor'),
    treasury: address('treasury'),
    deployBlock: integer('deployBlock', 0),
    publisher: address('publisher'),
  };
}

function checkedAddress(value: string, field: string): string {
  if (!isAddress(value)) throw new Error(`deployDao: ${field} is not an address: ${JSON.stringify(value)}`);
  return getAddress(value);
}
