/**
 * Validates an Envoy bootstrap against Envoy's API (envoy.config.bootstrap.v3.Bootstrap from the
 * protos in @grpc/grpc-js-xds) and the cross-references Envoy checks at load. This is what
 * `geosync envoy-config --check` and the tests run; it is no substitute for
 * `envoy --mode validate -c FILE` where an Envoy binary exists (envoy/README.md).
 */
import { parseDocument } from 'yaml';
import { ProblemList, type BootstrapProblem } from './api/problems';
import { checkReferences } from './api/references';
import { MessageWalker } from './api/walk';
import { BOOTSTRAP_TYPE, envoyProtos, type EnvoyProtos } from './proto-root';

export type { BootstrapProblem } from './api/problems';

export interface BootstrapCheck {
  readonly ok: boolean;
  readonly problems: readonly BootstrapProblem[];
  readonly warnings: readonly BootstrapProblem[];
}

export function validateBootstrap(bootstrap: unknown, protos: EnvoyProtos = envoyProtos()): BootstrapCheck {
  const problems = new ProblemList();
  const type = protos.lookup(BOOTSTRAP_TYPE);
  if (!type) throw new Error(`${BOOTSTRAP_TYPE} is missing from the Envoy API protos`);
  const normalised = new MessageWalker(protos, problems).message(type, bootstrap, '');
  if (normalised && typeof normalised === 'object' && !Array.isArray(normalised)) {
    checkReferences(normalised as Record<string, unknown>, problems);
  }
  return { ok: problems.problems.length === 0, problems: problems.problems, warnings: problems.warnings };
}

/** Parses YAML (JSON is YAML) the way Envoy reads `-c FILE`, then validates. */
export function validateBootstrapText(text: string, protos?: EnvoyProtos): BootstrapCheck {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '(yaml)',
        message: `line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
      warnings: [],
    };
  }
  return validateBootstrap(doc.toJS(), protos);
}

export function formatBootstrapProblems(problems: readonly BootstrapProblem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
}
