import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError, ChainInfo, TreasuryResponse } from '../../protocol/api.js';
import { shortError } from '../relayer/chain-errors.js';
import type { GatewayView } from '../gateway-view.js';
import { handleEpochsApi } from './epochs-api.js';
import { handleRelayApi } from './relay-api.js';
import { HttpError, send } from './respond.js';

const DAO_PATHS = /^\/api\/(chain|epochs|proposals|votes|claims|treasury)(\/|$)/;

/**
 * The on-chain side of the API: the chain the DAO settles on (/api/chain), epochs and proofs
 * (/api/epochs...), the treasury (/api/treasury), and the relayer (/api/proposals, /api/votes,
 * /api/claims). Returns false for
 * any other path. Without a configured chain these answer 503 and say so.
 */
export async function handleDaoApi(view: GatewayView, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const match = DAO_PATHS.exec(url.pathname);
  if (!match) return false;
  const chain = view.chain;
  if (!chain || !view.settlement || !view.relayer) {
    if (match[1] === 'chain') send(res, 200, { enabled: false, reason: 'this gateway settles on no chain (set --chain-rpc)' } satisfies ChainInfo);
    else send(res, 503, { error: 'this gateway settles on no chain (set --chain-rpc): no epochs, proposals, votes, claims or treasury' } satisfies ApiError);
    return true;
  }
  if (match[1] === 'chain') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: `${req.method} is not allowed` }, { allow: 'GET, HEAD' });
      return true;
    }
    send(res, 200, {
      enabled: true,
      chainId: chain.chainId,
      ...(chain.publicRpcUrl && { rpcUrl: chain.publicRpcUrl }),
      token: chain.token,
      distributor: chain.deployment.distributor,
      governor: chain.deployment.governor,
      treasury: chain.deployment.treasury,
      deployBlock: chain.deployment.deployBlock,
      epochSeconds: view.config.epochSeconds,
      relayer: chain.relayer.address,
    } satisfies ChainInfo);
    return true;
  }
  if (match[1] === 'treasury') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: `${req.method} is not allowed` }, { allow: 'GET, HEAD' });
      return true;
    }
    if (url.pathname !== '/api/treasury') throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    let treasury;
    try {
      treasury = await view.relayer.treasury.read();
    } catch (err) {
      throw new HttpError(503, `the chain node did not answer: ${shortError(err)}; try again shortly`);
    }
    send(res, 200, treasury satisfies TreasuryResponse);
    return true;
  }
  if (match[1] === 'epochs') return handleEpochsApi(view, req, res, url);
  return handleRelayApi(view, req, res, url);
}
