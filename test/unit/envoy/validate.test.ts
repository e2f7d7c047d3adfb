import path from 'node:path';
import { stringify } from 'yaml';
import { buildBootstrap } from '../../../src/envoy/bootstrap';
import { validateBootstrap, validateBootstrapText, type BootstrapProblem } from '../../../src/envoy/validate';
import { repositoryBootstraps } from '../../support/bootstraps';
import { makeConfig, type Json } from './support';

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTES = `${HCM}.route_config.virtual_hosts[0].routes`;
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const LOCAL_FILTERS = `static_resources.clusters[0].typed_extension_protocol_options["${HTTP_OPTIONS}"].http_filters`;
/** The ext_proc config, inside the match-delegate filter that wraps it. */
const EXT_PROC = `${LOCAL_FILTERS}[0].typed_config.extension_config.typed_config`;

/** A fresh, valid three-region bootstrap, http siblings. */
function fresh(): Json {
  return structuredClone(buildBootstrap(makeConfig({ regions: 3, scheme: 'http' })));
}

/** Returns the parent object and key addressed by a path such as a.b[2]["x.y"].c. */
function locate(root: unknown, p: string): [Record<string | number, unknown>, string | number] {
  const parts = [...p.matchAll(/\["([^"]+)"\]|\[(\d+)\]|([^.[\]]+)/g)].map(
    (m) => m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]),
  );
  let cur = root as Record<string | number, unknown>;
  for (const part of parts.slice(0, -1))
    cur = cur[part as string | number] as Record<string | number, unknown>;
  return [cur, parts[parts.length - 1] as string | number];
}

function edited(edit: (b: Json) => void): readonly BootstrapProblem[] {
  const b = fresh();
  edit(b);
  return validateBootstrap(b).problems;
}

function set(p: string, value: unknown): (b: Json) => void {
  return (b) => {
    const [parent, key] = locate(b, p);
    parent[key] = value;
  };
}

test('the fresh bootstrap is valid (baseline for the edits below)', () => {
  expect(validateBootstrap(fresh()).problems).toEqual([]);
});

describe('broken hand-edits are rejected with the field path', () => {
  // Each edit lists every problem it causes: the direct one first, then any consequence.
  test.each<[string, (b: Json) => void, BootstrapProblem | BootstrapProblem[]]>([
    [
      'unknown field',
      set('static_resources.clusters[2].conect_timeout', '1s'),
      {
        path: 'static_resources.clusters[2].conect_timeout',
        message: 'unknown field (envoy.config.cluster.v3.Cluster has no field "conect_timeout")',
      },
    ],
    [
      'dangling cluster name',
      set(`${ROUTES}[0].route.cluster`, 'local_regstry'),
      { path: `${ROUTES}[0].route.cluster`, message: 'unknown cluster "local_regstry"' },
    ],
    [
      'bad enum',
      set('static_resources.clusters[0].type', 'STRICT'),
      {
        path: 'static_resources.clusters[0].type',
        message:
          'must be one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST (envoy.config.cluster.v3.Cluster.DiscoveryType), got "STRICT"',
      },
    ],
    [
      'two members of one oneof',
      set(`${ROUTES}[2].route.cluster_header`, 'x-cluster'),
      {
        path: `${ROUTES}[2].route.cluster_header`,
        message: '"cluster" and "cluster_header" are members of oneof "cluster_specifier"; set only one',
      },
    ],
    [
      'unknown @type',
      set(
        `${HCM}.http_filters[0].typed_config.@type`,
        'type.googleapis.com/envoy.extensions.filters.http.routr.v3.Router',
      ),
      [
        {
          path: `${HCM}.http_filters[0].typed_config.@type`,
          message:
            'unknown type "envoy.extensions.filters.http.routr.v3.Router" (not in the Envoy API this geosync validates against)',
        },
        { path: `${HCM}.http_filters[0]`, message: 'the last HTTP filter must be envoy.filters.http.router' },
      ],
    ],
    [
      'wrong scalar type',
      set('admin.address.socket_address.port_value', 'ninety'),
      { path: 'admin.address.socket_address.port_value', message: 'must be an integer, got "ninety"' },
    ],
    [
      'port out of range (PGV)',
      set('admin.address.socket_address.port_value', 70000),
      { path: 'admin.address.socket_address.port_value', message: 'must be at most 65535, got 70000' },
    ],
    [
      'malformed duration',
      set('static_resources.clusters[1].connect_timeout', '2 seconds'),
      {
        path: 'static_resources.clusters[1].connect_timeout',
        message: 'must be a duration such as "0.5s" or "30s", got "2 seconds"',
      },
    ],
    [
      'unknown field inside an Any (ext_proc)',
      set(`${EXT_PROC}.failure_mode_allowed`, true),
      {
        path: `${EXT_PROC}.failure_mode_allowed`,
        message:
          'unknown field (envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor has no field "failure_mode_allowed")',
      },
    ],
    [
      'bad enum inside an Any (processing mode)',
      set(`${EXT_PROC}.processing_mode.response_header_mode`, 'SENT'),
      {
        path: `${EXT_PROC}.processing_mode.response_header_mode`,
        message:
          'must be one of DEFAULT, SEND, SKIP (envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode), got "SENT"',
      },
    ],
    [
      'ext_proc pointing at a missing cluster',
      set(`${EXT_PROC}.grpc_service.envoy_grpc.cluster_name`, 'geosync'),
      {
        path: `${EXT_PROC}.grpc_service.envoy_grpc.cluster_name`,
        message: 'unknown cluster "geosync"',
      },
    ],
    [
      'redirect allow-list naming a missing route',
      set(
        `${ROUTES}[0].route.internal_redirect_policy.predicates[0].typed_config.allowed_route_names[0]`,
        'sibling_z_pull',
      ),
      {
        path: `${ROUTES}[0].route.internal_redirect_policy.predicates[0].typed_config.allowed_route_names[0]`,
        message: 'no route named "sibling_z_pull" in this route_config',
      },
    ],
    [
      'upstream filters not ending with upstream_codec',
      (b) => {
        const [parent, key] = locate(b, LOCAL_FILTERS);
        (parent[key] as unknown[]).pop();
      },
      {
        path: `${LOCAL_FILTERS}[0]`,
        message: 'the last HTTP filter must be envoy.filters.http.upstream_codec',
      },
    ],
    [
      'duplicate cluster name',
      set('static_resources.clusters[1].name', 'local_registry'),
      [
        {
          path: 'static_resources.clusters[1].name',
          message: 'duplicate cluster name "local_registry" (also static_resources.clusters[0])',
        },
        { path: `${ROUTES}[2].route.cluster`, message: 'unknown cluster "local_registry_direct"' },
      ],
    ],
    [
      'missing required field',
      (b) => {
        const [parent] = locate(b, 'static_resources.clusters[3].name');
        delete parent.name;
      },
      [
        { path: 'static_resources.clusters[3].name', message: 'is required (must not be empty)' },
        {
          path: `${HCM}.route_config.virtual_hosts[2].routes[0].route.cluster`,
          message: 'unknown cluster "sibling_c"',
        },
      ],
    ],
    [
      'map value with an unknown field',
      set(
        `static_resources.clusters[2].typed_extension_protocol_options["${HTTP_OPTIONS}"].idle_timeout`,
        '1s',
      ),
      {
        path: `static_resources.clusters[2].typed_extension_protocol_options["${HTTP_OPTIONS}"].idle_timeout`,
        message: `unknown field (${HTTP_OPTIONS} has no field "idle_timeout")`,
      },
    ],
    [
      'duplicate virtual host domain',
      set(`${HCM}.route_config.virtual_hosts[2].domains[0]`, 'registry-b.example.com'),
      {
        path: `${HCM}.route_config.virtual_hosts[2].domains[0]`,
        message: `duplicate domain "registry-b.example.com" (also ${HCM}.route_config.virtual_hosts[1])`,
      },
    ],
  ])('%s', (_name, edit, expected) => {
    expect(edited(edit)).toEqual(Array.isArray(expected) ? expected : [expected]);
  });

  test('every problem is listed, not just the first', () => {
    const problems = edited((b) => {
      set('static_resources.clusters[0].type', 'STRICT')(b);
      set('static_resources.clusters[1].bogus', 1)(b);
      set(`${ROUTES}[2].route.cluster`, 'nope')(b);
    });
    expect(problems.map((p) => p.path)).toEqual([
      'static_resources.clusters[0].type',
      'static_resources.clusters[1].bogus',
      `${ROUTES}[2].route.cluster`,
    ]);
  });
});

describe('text input', () => {
  test('JSON and camelCase field names are accepted, as Envoy does', () => {
    const text = JSON.stringify({
      staticResources: { clusters: [{ name: 'x', connectTimeout: '1s', type: 'STATIC' }] },
    });
    expect(validateBootstrapText(text).problems).toEqual([]);
  });

  test('YAML syntax errors are reported with the line', () => {
    const check = validateBootstrapText('static_resources:\n  clusters: [\n');
    expect(check.ok).toBe(false);
    expect(check.problems[0]?.path).toBe('(yaml)');
  });

  test('a deprecated field is a warning, not an error', () => {
    const b = fresh();
    set(`${ROUTES}[0].match.safe_regex.google_re2`, {})(b);
    const check = validateBootstrap(b);
    expect(check.problems).toEqual([]);
    expect(check.warnings).toEqual([
      { path: `${ROUTES}[0].match.safe_regex.google_re2`, message: 'is deprecated in the Envoy API' },
    ]);
  });

  test('round trip through YAML text', () => {
    expect(validateBootstrapText(stringify(fresh())).problems).toEqual([]);
  });
});

describe('every bootstrap in the repository validates', () => {
  const bootstraps = repositoryBootstraps(path.resolve(__dirname, '../../..'));

  test('there are reference bootstraps to check', () => {
    expect(bootstraps.map(([name]) => name)).toEqual(expect.arrayContaining(['envoy/envoy-b.yaml']));
  });

  test.each(bootstraps)('%s', (_name, bootstrap) => {
    expect(validateBootstrap(bootstrap).problems).toEqual([]);
  });
});
