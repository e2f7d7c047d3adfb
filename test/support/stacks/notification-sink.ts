/**
 * A webhook receiver that records every event a registry sends it (as a registry's second
 * `notifications.endpoints` entry, beside geosync): what the region's own webhooks saw, with when
 * each delivery arrived. Answers 200 to everything, so the registry never retries.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkEvent {
  readonly id: string;
  readonly action: string;
  readonly timestamp: string;
  readonly target: {
    readonly mediaType?: string;
    readonly digest?: string;
    readonly repository?: string;
    readonly tag?: string;
    readonly url?: string;
  };
  readonly request?: { readonly method?: string; readonly useragent?: string };
  /** Date.now() when the delivery reached the sink. */
  readonly receivedAt: number;
}

export interface NotificationSink {
  readonly url: string;
  /** Every event received so far, in arrival order (re-deliveries included). */
  events(): SinkEvent[];
  /** Events matching `accept`; resolves once there are at least `count`, rejects after `timeoutMs`. */
  waitFor(accept: (e: SinkEvent) => boolean, count: number, timeoutMs: number): Promise<SinkEvent[]>;
  close(): Promise<void>;
}

/** A manifest push (a blob's URL has /blobs/): what "the region's webhooks fired" is about. */
export function isManifestPush(e: SinkEvent, repository: string): boolean {
  return e.action === 'push' && e.target.repository === repository && !!e.target.url?.includes('/manifests/');
}

export async function startNotificationSink(): Promise<NotificationSink> {
  const received: SinkEvent[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          events?: Omit<SinkEvent, 'receivedAt'>[];
        };
        for (const e of body.events ?? []) received.push({ ...e, receivedAt });
      } catch {
        // Not an envelope: nothing to record.
      }
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    events: () => [...received],
    async waitFor(accept, count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(accept);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(`notification sink: ${matching.length} of ${count} events within ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
