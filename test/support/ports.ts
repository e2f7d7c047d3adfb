/**
 * Free loopback ports for servers that cannot listen on port 0 themselves (Swift's rings name
 * their ports up front, distribution takes an address in its YAML).
 *
 * Ports come from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
 * never from inside it: between handing a port out and the server binding it, any outgoing
 * connection on the machine may be given that same port as its local port, and the server's
 * bind then fails (Swift retries for 30 s, then gives up), which a busy machine running many
 * test processes hit. A port is free when this process can listen on it; ports given out by
 * this process are remembered so two servers started by one test file never race for one.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const handedOut = new Set<number>();

/** Linux's default when the kernel does not say. */
const DEFAULT_EPHEMERAL_START = 32_768;
/** Above the well-known and commonly configured service ports. */
const LOWEST = 10_000;

function ephemeralStart(): number {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(start);
    return Number.isInteger(n) && n > LOWEST + 1_000 ? n : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

const HIGHEST = ephemeralStart() - 1;

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(host, port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port in ${LOWEST}-${HIGHEST} after 100 attempts`);
}

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort(host));
  return ports;
}
