/**
 * What the containers of one pod listen on, and whether the probes, declared container ports and
 * Services that target them can reach those sockets.
 *
 * The rules, from Kubernetes' probe API (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#lifecycle,
 * httpGet/tcpSocket `host`: "defaults to the pod IP"): the kubelet connects from outside the pod
 * to the pod's IP, so a probe reaches a socket bound to 0.0.0.0 (or ::) and never one bound to
 * 127.0.0.1, which only the pod's own containers share. A probe's `host` names some other machine
 * (127.0.0.1 is the node itself), so a probe of this pod has none.
 */

export interface Listener {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** What this socket is, for messages: "admin", "listen.grpc", ... */
  readonly what: string;
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
}

interface HttpGet {
  readonly port: number | string;
  readonly host?: string;
  readonly scheme?: string;
  readonly path?: string;
}
interface Probe {
  readonly httpGet?: HttpGet;
  readonly tcpSocket?: { readonly port: number | string; readonly host?: string };
  readonly grpc?: { readonly port: number };
  readonly exec?: unknown;
}

export interface Container {
  readonly name: string;
  readonly ports?: readonly ContainerPort[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly startupProbe?: Probe;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** `host:port`, `[v6]:port` or `:port` (Go's net.Listen form: every interface). */
export function parseHostPort(text: string, what: string, tls = false): Listener {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(text);
  if (!m) throw new Error(`${what}: not host:port: ${text}`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]), tls, what };
}

function resolvePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** The problem with reaching `port` of container `c` from the pod network, if any. */
function reachFromPodIp(c: Container, listens: readonly Listener[], port: number, tls?: boolean) {
  const onPort = listens.filter((l) => l.port === port);
  if (onPort.length === 0) return `${c.name} does not listen on port ${port}`;
  const open = onPort.filter((l) => WILDCARD.has(l.host));
  if (open.length === 0) {
    const where = onPort.map((l) => `${l.what} ${l.host}:${l.port}`).join(', ');
    return `${c.name} listens on port ${port} only at ${where}, which the pod IP does not reach`;
  }
  if (tls !== undefined && !open.some((l) => l.tls === tls)) {
    return `port ${port} of ${c.name} ${tls ? 'does not speak' : 'speaks'} TLS (probe scheme ${tls ? 'HTTPS' : 'HTTP'})`;
  }
  return undefined;
}

/**
 * Every probe of every container, and every declared container port, must reach a socket of that
 * container on the pod IP. `listens` maps a container name to what it listens on.
 */
export function podProblems(
  containers: readonly Container[],
  listens: ReadonlyMap<string, readonly Listener[]>,
): string[] {
  const problems: string[] = [];
  for (const c of containers) {
    const own = listens.get(c.name) ?? [];
    for (const kind of PROBES) {
      const probe = c[kind];
      if (!probe) continue;
      const at = `${c.name} ${kind}`;
      const handler = probe.httpGet ?? probe.tcpSocket ?? probe.grpc;
      if (!handler) {
        problems.push(`${at}: only httpGet, tcpSocket and grpc probes can be checked here`);
        continue;
      }
      if ('host' in handler && handler.host !== undefined) {
        problems.push(`${at}: host ${handler.host} is not this pod (the kubelet probes the pod IP)`);
        continue;
      }
      const port = resolvePort(c, handler.port);
      if (port === undefined) {
        problems.push(`${at}: port ${handler.port} is not a named port of ${c.name}`);
        continue;
      }
      const tls = probe.httpGet ? probe.httpGet.scheme === 'HTTPS' : undefined;
      const problem = reachFromPodIp(c, own, port, tls);
      if (problem) problems.push(`${at}: ${problem}`);
    }
    for (const p of c.ports ?? []) {
      const problem = reachFromPodIp(c, own, p.containerPort);
      if (problem) problems.push(`${c.name} declares containerPort ${p.containerPort}: ${problem}`);
    }
  }
  return problems;
}

/** A connection from inside the pod to `target` (loopback or wildcard) finds a listener. */
export function listenedInPod(listens: ReadonlyMap<string, readonly Listener[]>, target: Listener): boolean {
  return [...listens.values()].some((ls) =>
    ls.some((l) => l.port === target.port && (WILDCARD.has(l.host) || l.host === target.host)),
  );
}
