/** Problems found in an Envoy bootstrap, each with the field path Envoy would name. */

export interface BootstrapProblem {
  /** e.g. `static_resources.clusters[2].connect_timeout`. */
  readonly path: string;
  readonly message: string;
}

export class ProblemList {
  readonly problems: BootstrapProblem[] = [];
  /** Not errors for Envoy (it logs them), but worth an operator's attention. */
  readonly warnings: BootstrapProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path: path || '(root)', message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path: path || '(root)', message });
  }
}

export function fieldPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** Map entries: `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]`. */
export function keyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
