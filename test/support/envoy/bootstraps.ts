/**
 * The Envoy bootstraps the repository ships, and the geosync configurations it ships (each of
 * which the generator turns into a bootstrap). Bootstraps are YAML/JSON documents with a top-level
 * `static_resources`, standalone or embedded in a Kubernetes ConfigMap's `data`; each is named
 * `file` or `file#data.<key>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const SEARCHED = ['envoy', 'deploy', 'test'];

function yamlFiles(repo: string): string[] {
  return SEARCHED.flatMap((dir) =>
    (readdirSync(path.join(repo, dir), { recursive: true }) as string[]).map((f) => path.join(dir, f)),
  )
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.includes('node_modules'))
    .sort();
}

function isBootstrap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && ('static_resources' in v || 'staticResources' in v);
}

export function repositoryBootstraps(repo: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const file of yamlFiles(repo)) {
    const text = readFileSync(path.join(repo, file), 'utf8');
    if (!text.includes('static_resources') && !text.includes('staticResources')) continue;
    for (const doc of parseAllDocuments(text)) {
      if (!('toJS' in doc)) continue;
      const value: unknown = doc.toJS();
      if (isBootstrap(value)) out.push([file, value]);
      const data = (value as { kind?: unknown; data?: Record<string, unknown> } | null)?.data;
      if ((value as { kind?: unknown } | null)?.kind !== 'ConfigMap' || !data) continue;
      for (const [key, embedded] of Object.entries(data)) {
        if (typeof embedded !== 'string') continue;
        const inner: unknown = parse(embedded);
        if (isBootstrap(inner)) out.push([`${file}#data.${key}`, inner]);
      }
    }
  }
  return out;
}

/** The geosync configurations shipped for operators (not test fixtures). */
export function shippedGeosyncConfigs(repo: string): string[] {
  return yamlFiles(repo).filter((f) => {
    if (f.startsWith('test/')) return false;
    const text = readFileSync(path.join(repo, f), 'utf8');
    return /^region:/m.test(text) && /^regions:/m.test(text);
  });
}
