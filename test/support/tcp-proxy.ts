/**
 * A TCP proxy on loopback standing for the network between two regions: it adds a one-way delay to
 * every chunk in each direction (a cross-region round trip costs 2 × delay), and can be stopped and
 * started again on the same port to make a region's endpoint unreachable (connection refused).
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Refuse connections (and drop open ones) until `resume()`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(opts: {
  readonly target: { host: string; port: number };
  readonly delayMs?: number;
  readonly host?: string;
}): Promise<TcpProxy> {
  const host = opts.host ?? '127.0.0.1';
  const delay = opts.delayMs ?? 0;
  const sockets = new Set<net.Socket>();

  const pipeDelayed = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (delay === 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), delay);
    });
    from.on('end', () => (delay === 0 ? to.end() : setTimeout(() => to.end(), delay)));
  };

  const makeServer = () =>
    net.createServer((client) => {
      const upstream = net.connect(opts.target.port, opts.target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => sockets.delete(s));
      }
      pipeDelayed(client, upstream);
      pipeDelayed(upstream, client);
    });

  let server = makeServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  return {
    port,
    url: `http://${host}:${port}`,
    pause: stop,
    resume: async () => {
      server = makeServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, resolve);
      });
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
