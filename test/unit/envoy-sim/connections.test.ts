/**
 * `max_requests_per_connection` on the ext_proc cluster: Envoy opens a new HTTP/2 connection to
 * the processor after that many streams. geosync's generated config relies on it to keep the
 * resets any one connection sees below Node's HTTP/2 rapid-reset limit.
 */
import { startEnvoySim, type EnvoySim } from '../../envoy-sim';
import {
  bootstrap,
  notFound,
  okBody,
  request,
  startProcessor,
  startServer,
  type FakeProcessor,
  type FakeServer,
} from './fixtures';

let registry: FakeServer;
let sibling: FakeServer;
let processor: FakeProcessor;
let sim: EnvoySim | undefined;
/** The client address of each stream, read while the stream is open (later it reads "unknown"). */
let peers: string[];

beforeEach(async () => {
  registry = await startServer(notFound);
  sibling = await startServer(okBody('x'));
  peers = [];
  // Answers every message with a plain CONTINUE of the matching kind.
  processor = await startProcessor((m, s) => {
    if (s.messages.length === 1) peers.push(s.call.getPeer());
    s.call.write({ [m.request as string]: {} });
  });
});

afterEach(async () => {
  await sim?.close();
  await Promise.all([registry.close(), sibling.close(), processor.close()]);
});

function withStreamsPerConnection(
  b: Record<string, unknown>,
  n: number | undefined,
): Record<string, unknown> {
  const clusters = (b.static_resources as { clusters: Record<string, unknown>[] }).clusters;
  const c = clusters.find((x) => x.name === 'ext_proc_server') as {
    typed_extension_protocol_options: Record<string, Record<string, unknown>>;
  };
  const options =
    c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  if (options && n !== undefined) options.common_http_protocol_options = { max_requests_per_connection: n };
  return b;
}

async function peersAfter(requests: number, limit: number | undefined): Promise<number> {
  sim = await startEnvoySim(
    withStreamsPerConnection(
      bootstrap({ registryPort: registry.port, siblingPort: sibling.port, processorPort: processor.port }),
      limit,
    ),
  );
  const url = sim.listeners[0]?.url ?? '';
  for (let i = 0; i < requests; i++)
    expect((await request(url, '/v2/team/app/manifests/v1')).status).toBe(404);
  expect(peers).toHaveLength(requests);
  return new Set(peers).size;
}

test('a new connection every N streams', async () => {
  expect(await peersAfter(5, 2)).toBe(3);
});

test('one connection without the limit', async () => {
  expect(await peersAfter(5, undefined)).toBe(1);
});

test('a processor that comes back is reached by the next request (no client-side reconnect backoff)', async () => {
  const port = processor.port;
  sim = await startEnvoySim(
    bootstrap({ registryPort: registry.port, siblingPort: sibling.port, processorPort: port }),
  );
  const url = sim.listeners[0]?.url ?? '';
  await processor.close();
  // Processor down: failure_mode_allow lets the registry's 404 through.
  expect((await request(url, '/v2/team/app/manifests/v1')).status).toBe(404);
  expect((await request(url, '/v2/team/app/manifests/v1')).status).toBe(404);
  processor = await startProcessor((m, s) => s.call.write({ [m.request as string]: {} }), port);
  expect((await request(url, '/v2/team/app/manifests/v1')).status).toBe(404);
  expect(processor.streams.length).toBe(1);
});
