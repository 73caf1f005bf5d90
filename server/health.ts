import type { GatewayView } from './gateway-view.js';

/**
 * What is wrong with this gateway now, one line each; empty when all is well. /healthz answers
 * 'degraded' with these, and /metrics exposes their count (dao_gateway_health_problems) so that an
 * alert fires on the same conditions.
 */
export function healthProblems(view: GatewayView): string[] {
  const problems: string[] = [];
  if (!view.source.connected) problems.push('work source disconnected');
  if (!view.jobs.current) problems.push('no job yet');
  if (view.instanceProblem) problems.push(`instance: ${view.instanceProblem}`);
  else if (view.ledgerError) problems.push(`ledger: ${view.ledgerError}`);
  const relayProblem = view.relayer?.limits.problem();
  if (relayProblem) problems.push(relayProblem);
  if (view.settlement?.problem) problems.push(`settlement: ${view.settlement.problem}`);
  else if (view.settlement?.publishError) problems.push(`settlement retrying: ${view.settlement.publishError}`);
  const latestVeto = view.settlement?.challenges.latestVeto();
  if (latestVeto) {
    problems.push(`settlement: the root of epoch ${latestVeto.epoch} was vetoed by guardian ${latestVeto.guardian}: ${latestVeto.reason} (members cannot claim it; the next root supersedes it)`);
  }
  if (view.settlement?.challenges.lastError) problems.push(`settlement: ${view.settlement.challenges.lastError}`);
  return problems;
}
