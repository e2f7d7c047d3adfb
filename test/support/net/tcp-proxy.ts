/**
 * A TCP proxy on loopback standing for the network between two regions: it adds a one-way delay to
 * every chunk in each direction (a cross-region round trip costs 2 × delay), and can be stopped and
 * started again on the same port to make a region's endpoint unreachable (connection refused).
 *
 * Like a real link it holds only a bounded window of bytes in flight per direction
 * (`windowBytes`): once that many bytes were read from one side and not yet handed to the other
 * side's kernel, it stops reading until they drain. Without that bound a fast sender would see no
 * round trip at all (the proxy would swallow a whole layer at once) and a herd of transfers would
 * pile up in this process's memory. One window per delay is what TCP itself allows in flight, so
 * one connection carries at most `windowBytes / (2 × delay)` per second, as on a WAN.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** The one-way delay now applied to every chunk. */
  readonly delayMs: number;
  /** Connections accepted so far (a client with a keep-alive pool opens one per request it runs at once). */
  readonly accepted: number;
  /** Changes the one-way delay of chunks read from now on (open connections included, order kept). */
  setDelayMs(ms: number): void;
  /** Refuse connections (and drop open ones) until `resume()`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Linux's default maximum TCP receive window (net.ipv4.tcp_rmem, 6 MiB) rounded down: what one
 * well-tuned connection between regions keeps in flight.
 */
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

export async function startTcpProxy(opts: {
  readonly target: { host: string; port: number };
  readonly delayMs?: number;
  readonly host?: string;
  readonly windowBytes?: number;
}): Promise<TcpProxy> {
  const host = opts.host ?? '127.0.0.1';
  let delay = opts.delayMs ?? 0;
  const window = opts.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const sockets = new Set<net.Socket>();
  let accepted = 0;

  const pipeDelayed = (from: net.Socket, to: net.Socket) => {
    // Bytes read from `from` that `to` has not yet flushed to its kernel buffer.
    let inFlight = 0;
    // Chunks (null: the end) in arrival order with the time each may leave. One queue per direction
    // keeps the order even when the delay changes while chunks wait.
    const queue: { readonly due: number; readonly chunk: Buffer | null }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const write = (chunk: Buffer) => {
      if (!to.writable) return;
      to.write(chunk, () => {
        inFlight -= chunk.length;
        if (inFlight < window && from.isPaused() && !from.destroyed) from.resume();
      });
    };
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0] as (typeof queue)[number]).due <= now) {
        const { chunk } = queue.shift() as (typeof queue)[number];
        if (chunk === null) to.end();
        else write(chunk);
      }
      const next = queue[0];
      if (next && !to.destroyed) timer = setTimeout(pump, next.due - now);
    };
    const enqueue = (chunk: Buffer | null) => {
      queue.push({ due: performance.now() + delay, chunk });
      if (delay === 0 && queue.length === 1) pump();
      else timer ??= setTimeout(pump, delay);
    };
    from.on('data', (chunk: Buffer) => {
      inFlight += chunk.length;
      if (inFlight >= window) from.pause();
      enqueue(chunk);
    });
    from.on('end', () => enqueue(null));
    to.on('close', () => clearTimeout(timer));
  };

  const makeServer = () =>
    net.createServer((client) => {
      accepted++;
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
    get delayMs() {
      return delay;
    },
    get accepted() {
      return accepted;
    },
    setDelayMs(ms: number) {
      delay = ms;
    },
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
