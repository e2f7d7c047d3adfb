/** Builds geosync configurations for the Envoy tests: n regions, http or https, this region first. */
import { stringify } from 'yaml';
import { loadConfigText } from '../../../src/config/load';
import type { GeosyncConfig } from '../../../src/config/types';

export interface ConfigShape {
  readonly regions: number;
  readonly scheme?: 'http' | 'https';
  /** Loopback stacks: every region on 127.0.0.1 with its own port. */
  readonly loopback?: boolean;
  readonly envoy?: Record<string, unknown>;
  readonly lookupTimeoutMs?: number;
  readonly lookupTimeoutMaxMs?: number;
  readonly grpc?: string;
  /** The `freshness:` section. */
  readonly freshness?: Record<string, number>;
  readonly pushCheckBasicUsers?: readonly string[];
}

export const REGION_NAMES = ['a', 'b', 'c', 'eu-west-1', 'ap-south-2'];

/**
 * Region names that YAML 1.1, which Envoy reads, takes for something else than a string: its
 * booleans (`no` is Norway's code), null, and numbers the region-name pattern allows (`1_000`, an
 * integer to YAML 1.1, is not a region name: names have no `_`).
 */
export const YAML_TRAP_NAMES = [
  ...['no', 'n', 'y', 'on', 'off', 'yes', 'true', 'false', 'null'],
  ...['1e3', '1e-3', '0x1', '0o7', '0123', '123', '0'],
];

/** Two regions: `name` (this one, first) and `zz`. */
export function twoRegionConfigText(name: string): string {
  return stringify({
    region: name,
    listen: { grpc: '127.0.0.1:9002', admin: '127.0.0.1:9003' },
    regions: [
      { name, url: 'https://registry-x.example.com', storage: { type: 'filesystem', root: '/srv/x' } },
      { name: 'zz', url: 'https://registry-z.example.com', storage: { type: 'filesystem', root: '/srv/z' } },
    ],
  });
}

export function configText(shape: ConfigShape): string {
  const scheme = shape.scheme ?? 'https';
  const names = REGION_NAMES.slice(0, shape.regions);
  const regions = names.map((name, i) => ({
    name,
    url: shape.loopback ? `${scheme}://127.0.0.1:${18080 + i}` : `${scheme}://registry-${name}.example.com`,
    storage: { type: 'filesystem', root: `/srv/registry-${name}` },
  }));
  return stringify({
    region: names[0],
    listen: { grpc: shape.grpc ?? '127.0.0.1:9002', admin: '127.0.0.1:9003' },
    ...(shape.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: shape.lookupTimeoutMs } : {}),
    ...(shape.lookupTimeoutMaxMs !== undefined ? { lookupTimeoutMaxMs: shape.lookupTimeoutMaxMs } : {}),
    regions,
    ...(shape.freshness ? { freshness: shape.freshness } : {}),
    ...(shape.pushCheckBasicUsers ? { pushCheckBasicUsers: shape.pushCheckBasicUsers } : {}),
    ...(shape.envoy ? { envoy: shape.envoy } : {}),
  });
}

export function makeConfig(shape: ConfigShape): GeosyncConfig {
  const result = loadConfigText(configText(shape));
  if (!result.ok) throw new Error(`invalid test config: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export type Json = Record<string, unknown>;

/** Follows a dotted path with [i] indexes through plain objects (test convenience). */
export function at(value: unknown, path: string): unknown {
  const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = value;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
