/**
 * Free loopback ports for servers that cannot listen on port 0 themselves (Swift's rings name
 * their ports up front, distribution takes an address in its YAML, Envoy's listener is in its
 * bootstrap).
 *
 * A port is handed out only if nothing listens on it now, and from below the kernel's ephemeral
 * range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default): a port the kernel
 * hands out for port 0 is also what it picks as the source port of outgoing connections, so a
 * free-looking ephemeral port can be taken by any client socket (a burst of S3 or HTTP requests)
 * between the check and the server's bind, and the server then fails to start. Each jest worker
 * draws from its own slice of the range, so parallel test files never race for one port either;
 * ports given out by this process are remembered for the same reason.
 */
import net from 'node:net';

const handedOut = new Set<number>();

/**
 * Ports that fetch refuses to connect to ("bad port", https://fetch.spec.whatwg.org/#port-blocking),
 * Node's included: a server there is never reached by the tests' fetch-based readiness checks.
 * 10080 is the only one in the ranges below.
 */
const FETCH_BLOCKED = new Set([10080]);

/** 10000-31999: below the ephemeral range, above well-known and registered service ports in use here. */
const FIRST = 10_000;
const SLICE = 2_200;
const SLICES = 10;
const WORKER = Number(process.env.JEST_WORKER_ID ?? 0) % SLICES;
const start = FIRST + WORKER * SLICE;
/** A random starting point within the slice: two processes of one worker slot rarely collide. */
let cursor = Math.floor(Math.random() * SLICE);

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < SLICE; attempt++) {
    const port = start + (cursor++ % SLICE);
    if (handedOut.has(port) || FETCH_BLOCKED.has(port)) continue;
    if (await canListen(host, port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port in ${start}-${start + SLICE - 1}`);
}

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort(host));
  return ports;
}
