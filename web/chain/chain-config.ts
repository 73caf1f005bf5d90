// Which chain the DAO settles on, as the gateway says (GET /api/chain). The page reads the chain
// itself from `rpcUrl`; it trusts the gateway only for where to look, and checks what it finds there.
import { getAddress, isAddress } from 'ethers';
import type { ChainConfig } from '../../protocol/api.js';

export type { ChainConfig };

/** /api/chain as the page uses it: the configuration checked, or why there is none. */
export type ChainStatus = { enabled: false; reason: string } | { enabled: true; config: ChainConfig };

/** Checks the answer field by field, so a wrong gateway shows what is wrong instead of failing later. */
export function parseChainStatus(body: unknown): ChainStatus {
  const record = object(body, '/api/chain');
  if (record.enabled === false) return { enabled: false, reason: typeof record.reason === 'string' ? record.reason : 'no chain configured' };
  if (record.enabled !== true) throw new Error('/api/chain: "enabled" must be true or false');
  const token = object(record.token, '/api/chain token');
  const decimals = integer(token.decimals, 'token.decimals', 0);
  if (decimals > 77) throw new Error(`/api/chain: token.decimals ${decimals} is out of range`);
  const rpcUrl = record.rpcUrl;
  // Absent: the gateway publishes no RPC URL and the page reads through the member's wallet.
  if (rpcUrl !== undefined && (typeof rpcUrl !== 'string' || !URL.canParse(rpcUrl) || !/^https?:$/.test(new URL(rpcUrl).protocol))) {
    throw new Error(`/api/chain: rpcUrl must be an http(s) URL, got ${JSON.stringify(rpcUrl)}`);
  }
  return {
    enabled: true,
    config: {
      chainId: integer(record.chainId, 'chainId', 1),
      ...(rpcUrl !== undefined && { rpcUrl }),
      token: {
        address: address(token.address, 'token.address'),
        symbol: typeof token.symbol === 'string' ? token.symbol : '',
        decimals,
      },
      distributor: address(record.distributor, 'distributor'),
      governor: address(record.governor, 'governor'),
      treasury: address(record.treasury, 'treasury'),
      deployBlock: integer(record.deployBlock, 'deployBlock', 0),
      epochSeconds: integer(record.epochSeconds, 'epochSeconds', 1),
      relayer: address(record.relayer, 'relayer'),
    },
  };
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function integer(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`/api/chain: ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function address(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isAddress(value)) throw new Error(`/api/chain: ${field} must be an address, got ${JSON.stringify(value)}`);
  return getAddress(value);
}
