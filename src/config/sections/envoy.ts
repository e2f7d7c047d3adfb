/**
 * `envoy:`: everything `geosync envoy-config` needs beyond the regions (src/envoy/bootstrap.ts),
 * declared with the rest of the file so that a typo is reported with its key path together with
 * every other problem; envoy/README.md ("Tunables") documents it.
 */
import { z } from 'zod';
import {
  absolutePath,
  defaulted,
  described,
  documented,
  integer,
  mapping,
  matching,
  object,
  optional,
  required,
  section,
} from '../keys';
import { withRules, type Issue, type Parsed } from '../refine';
import { clusterTuningOverrides, clusterTuningShape } from './cluster-tuning';

const host = matching(/^[A-Za-z0-9.:-]+$/, 'an IP address or host name');
const socket = (address: string, port: number) => ({
  address: defaulted(host, address),
  port: defaulted(integer(0, 65535), port),
});
const socketDocs = (what: string) => ({ address: `${what}: IP address or host name`, port: `${what}: port` });

const listener = mapping(
  object(
    {
      ...socket('0.0.0.0', 8080),
      tls: optional(
        object(
          { certChain: required(absolutePath()), privateKey: required(absolutePath()) },
          { certChain: 'PEM certificate chain', privateKey: 'PEM private key' },
        ),
        'none (plain HTTP)',
      ),
      requestHeadersTimeoutMs: defaulted(integer(1, 600_000), 10_000),
      // Envoy's default, an hour, let a client that connects and sends nothing hold one of
      // maxConnections that long; Go's HTTP clients (containerd, skopeo, crane, …) drop an idle
      // connection after 90 s at most (net/http DefaultTransport), so they close first.
      idleTimeoutMs: defaulted(integer(1000, 3_600_000), 120_000),
      maxConnections: defaulted(integer(1, 10_000_000), 50_000),
      xffNumTrustedHops: defaulted(integer(0, 10), 0),
      allowPlaintextSiblings: defaulted(z.boolean(), false),
    },
    {
      ...socketDocs('where clients connect'),
      tls: 'terminate TLS in Envoy (ALPN h2, http/1.1). Leave unset when a load balancer terminates TLS',
      requestHeadersTimeoutMs:
        'HCM `request_headers_timeout`: a client that has not sent all its headers by then is disconnected (slowloris). The body may take as long as it needs',
      idleTimeoutMs:
        "HCM `common_http_protocol_options.idle_timeout`: a client connection with no request in flight for this long is closed (Envoy's own default is an hour). Above the 90 s Go's HTTP clients keep an idle connection, so they close first; behind a load balancer that reuses its connections to Envoy, set it above that balancer's idle timeout",
      maxConnections:
        "downstream connections at most (overload manager's `global_downstream_max_connections`); past it, new connections are refused. The admin port is not counted",
      xffNumTrustedHops:
        'HCM `xff_num_trusted_hops` with `use_remote_address: true`: the number of proxies in front of Envoy (a load balancer: 1) whose `X-Forwarded-For` entries are trusted to name the client',
      allowPlaintextSiblings:
        "with `tls` set, allow siblings whose `url` is `http://`: a rescued pull then carries the client's `Authorization`, received over TLS, to that sibling in cleartext. Only for links that are private or encrypted below HTTP",
    },
  ),
);

const localRegistry = mapping(
  z.strictObject({
    ...described(
      {
        ...socket('127.0.0.1', 5000),
        tls: defaulted(z.boolean(), false),
        sni: optional(z.string(), '`address`'),
      },
      {
        ...socketDocs(
          'the registry next to this Envoy (a host name uses `LOGICAL_DNS`, an IP address `STATIC`)',
        ),
        tls: 'the registry speaks https; its certificate is verified against `caFile` and `sni`',
        sni: 'SNI and certificate name of an https local registry',
      },
    ),
    ...clusterTuningShape('local'),
  }),
);

/** `envoy.extProc.messageTimeoutMs`'s default (the tests bound a 404's wait by it). */
export const MESSAGE_TIMEOUT_MS = 20_000;

const extProc = section(
  {
    // How long a hung geosync can delay a 404, not how long storage may take (the lookup deadlines
    // bound that). Under a herd decided replies queue like the rest of a pull: 2 s and 10 s lost
    // requests in the benchmark, 20 s none (docs/operations.md, "Two deadlines").
    messageTimeoutMs: defaulted(integer(1, 60_000), MESSAGE_TIMEOUT_MS),
    connectTimeoutMs: defaulted(integer(1, 60_000), 250),
    // Below 1000: Node's HTTP/2 server (nghttp2) sends GOAWAY after a burst of ~1000 stream
    // resets on one connection, and Envoy resets every ext_proc stream it closes first.
    maxStreamsPerConnection: defaulted(integer(1, 900), 500),
  },
  {
    messageTimeoutMs:
      'ext_proc `message_timeout`: how long a hung geosync can delay a 404; above `lookupTimeoutMaxMs`, with room for replies queued under a herd (docs/operations.md, "Two deadlines")',
    connectTimeoutMs:
      'connect timeout to geosync. Short on purpose: geosync is local, and a dead geosync must fail open fast',
    maxStreamsPerConnection:
      '`max_requests_per_connection` of the `geosync_ext_proc` cluster: keeps Envoy\'s stream resets on one connection below Node\'s rapid-reset limit (docs/operations.md, "Stream resets")',
  },
);

type Envoy = z.output<typeof envoyObject>;

/** Envoy's admin port and its listener cannot share a socket. */
function adminApart({ listener: l, admin: a }: Parsed<Envoy>): Issue[] {
  if (a?.port === undefined || a.port === 0 || a.port !== l?.port || a.address !== l.address) return [];
  return [{ path: ['admin', 'port'], message: 'must differ from envoy.listener.port' }];
}

/** A health check's timeout is below its interval, at every level that sets either. */
function healthCheckTimeoutBelowInterval(envoy: Parsed<Envoy>): Issue[] {
  type Check = { timeoutMs?: number; intervalMs?: number } | undefined;
  const base = envoy.siblingDefaults?.healthCheck;
  const levels: [PropertyKey[], Check][] = [
    [['siblingDefaults'], base],
    [['localRegistry'], envoy.localRegistry?.healthCheck],
    // A sibling inherits what siblingDefaults sets, checked there: only its own keys count here.
    ...Object.entries(envoy.siblings ?? {}).flatMap(([name, own]): [PropertyKey[], Check][] =>
      own?.healthCheck?.timeoutMs === undefined && own?.healthCheck?.intervalMs === undefined
        ? []
        : [[['siblings', name], { ...base, ...own.healthCheck }]],
    ),
  ];
  return levels.flatMap(([path, c]) =>
    c?.timeoutMs === undefined || c.intervalMs === undefined || c.timeoutMs < c.intervalMs
      ? []
      : [
          {
            path: [...path, 'healthCheck', 'timeoutMs'],
            message: `must be below intervalMs (${c.intervalMs})`,
          },
        ],
  );
}

const envoyObject = object(
  {
    listener,
    admin: section(
      socket('127.0.0.1', 9901),
      socketDocs("Envoy's admin interface (keep it on loopback: it can change Envoy's state)"),
    ),
    ignorePortInHostMatching: optional(z.boolean(), '`true`, or `false` when two regions share a host name'),
    localRegistry,
    extProc,
    siblingDefaults: documented(mapping(z.strictObject(clusterTuningShape('siblings'))), {
      defaultText: 'see below',
    }),
    siblings: optional(z.record(z.string(), clusterTuningOverrides), '`siblingDefaults`'),
    accessLogPath: defaulted(matching(/^(\/|$)/, 'an absolute path'), '/dev/stdout', true),
  },
  {
    listener: "Envoy's listener for registry clients.",
    admin: "Envoy's admin interface.",
    ignorePortInHostMatching:
      'Route configuration `ignore_port_in_host_matching`, so a redirect\'s `host:port` matches the sibling\'s domain; `false` when regions differ only by port (envoy/README.md, "Host matching")',
    localRegistry:
      'The local registry and the tuning of its two clusters (`local_registry`, `local_registry_direct`).',
    extProc: 'The ext_proc filter and its `geosync_ext_proc` cluster.',
    siblingDefaults: 'Cluster tuning for every sibling region (the cluster tuning keys)',
    siblings:
      'Overrides for one sibling, by region name: the cluster tuning keys, over `siblingDefaults`. Example: a longer connect timeout for the farthest region',
    accessLogPath: "file access log of the HCM; `''` turns it off",
  },
);

export const envoySection = mapping(withRules(envoyObject, adminApart, healthCheckTimeoutBelowInterval));
