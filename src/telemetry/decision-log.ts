/**
 * One structured log line per decision: info for outcomes an operator acts on (proxied, timeout,
 * error), debug for the rest (pass, not_found, ineligible), which at a registry's request rate
 * would drown the log. Request headers are never logged; the repository name only when
 * `telemetry.traceRepositoryNames` is on.
 */
import type { DecisionRecord } from '../decide/decision';
import type { RequestMeta } from '../extproc/stream';
import type { Logger } from '../log/logger';

const INFO_OUTCOMES = new Set(['proxied', 'timeout', 'error']);

export function decisionLogger(
  log: Logger,
  opts: { traceRepositoryNames: boolean },
): (record: DecisionRecord, meta: RequestMeta) => void {
  return (record, meta) => {
    const level = INFO_OUTCOMES.has(record.outcome) ? 'info' : 'debug';
    if (!log.isLevelEnabled(level)) return;
    const line = {
      outcome: record.outcome,
      ...(record.kind ? { kind: record.kind } : {}),
      ...(record.reason ? { reason: record.reason } : {}),
      ...(record.sourceRegion ? { sourceRegion: record.sourceRegion } : {}),
      ...(record.sourceLastModified ? { sourceAgeMs: Date.now() - record.sourceLastModified.getTime() } : {}),
      ...(record.lookupMs !== undefined ? { lookupMs: Math.round(record.lookupMs) } : {}),
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
      ...(opts.traceRepositoryNames && meta.target?.eligible
        ? { repository: meta.target.target.repository }
        : {}),
    };
    log[level](line, 'decision');
  };
}
