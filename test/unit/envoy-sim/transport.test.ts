/**
 * Transports the generated bootstrap uses: an https sibling with SNI (node https, verification per
 * UpstreamTlsContext or the knob), an ext_proc cluster on a `pipe` unix socket, and startEnvoy's
 * choice between a real Envoy and the simulator.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { externalProcessorService } from '../../../src/extproc/protos';
import type { ProcessingRequest__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';
import { startEnvoy, startEnvoySim, type EnvoySim } from '../../envoy-sim';
import {
  type FakeServer,
  SIBLING_HOST,
  bootstrap,
  notFound,
  redirectingScript,
  request,
  startServer,
} from './fixtures';

const BLOB = '/v2/a/blobs/sha256:' + 'b'.repeat(64);

describe('upstream TLS and pipe ext_proc', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let registry: FakeServer;
  let tlsSibling: https.Server;
  let sniSeen: string[];
  let grpcServer: grpc.Server;
  let sim: EnvoySim | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoy-sim-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${SIBLING_HOST}`,
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = fs.readFileSync(path.join(dir, 'key.pem'));
    cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  });

  beforeEach(async () => {
    sniSeen = [];
    registry = await startServer(notFound);
    tlsSibling = https.createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-length': '3' });
      res.end(req.method === 'HEAD' ? undefined : 'tls');
    });
    tlsSibling.on('secureConnection', (s) =>
      sniSeen.push(String((s as unknown as { servername?: string }).servername)),
    );
    await new Promise<void>((r) => tlsSibling.listen(0, '127.0.0.1', () => r()));
    grpcServer = new grpc.Server();
    const port = () => (tlsSibling.address() as AddressInfo).port;
    const script = redirectingScript((p) => `https://${SIBLING_HOST}:${port()}${p}`);
    grpcServer.addService(externalProcessorService(), {
      Process: (call: grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>) => {
        const s = { messages: [], events: [], call };
        call.on('data', (m: ProcessingRequest__Output) => script(m, s));
        call.on('error', () => undefined);
      },
    });
    await new Promise<void>((resolve, reject) =>
      grpcServer.bindAsync(
        `unix:${path.join(dir, 'xp.sock')}`,
        grpc.ServerCredentials.createInsecure(),
        (e) => (e ? reject(e) : resolve()),
      ),
    );
  });

  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    grpcServer.forceShutdown();
    fs.rmSync(path.join(dir, 'xp.sock'), { force: true });
    tlsSibling.closeAllConnections();
    await new Promise((r) => tlsSibling.close(r));
    await registry.close();
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function tlsBootstrap(validate: boolean) {
    const b = bootstrap({
      registryPort: registry.port,
      siblingPort: (tlsSibling.address() as AddressInfo).port,
      processorPort: 0,
      policy: { redirect_response_codes: [307], allow_cross_scheme_redirect: true },
    }) as { static_resources: { clusters: Record<string, unknown>[] } };
    const clusters = b.static_resources.clusters;
    const sib = clusters.find((c) => c.name === 'sibling') as Record<string, unknown>;
    sib.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: SIBLING_HOST,
        ...(validate ? { common_tls_context: { validation_context: {} } } : {}),
      },
    };
    const xp = clusters.find((c) => c.name === 'ext_proc_server') as Record<string, unknown>;
    xp.load_assignment = {
      cluster_name: 'ext_proc_server',
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { pipe: { path: path.join(dir, 'xp.sock') } } } }] },
      ],
    };
    return b;
  }

  it('redirects to an https sibling over TLS with SNI, ext_proc reached over a unix socket', async () => {
    sim = await startEnvoySim(tlsBootstrap(false));
    const r = await request(sim.listeners[0]?.url ?? '', BLOB);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('tls');
    expect(sniSeen).toEqual([SIBLING_HOST]);
  });

  it('verifies the certificate when the context has a validation_context (503 on a self-signed cert), unless given the CA', async () => {
    sim = await startEnvoySim(tlsBootstrap(true));
    expect((await request(sim.listeners[0]?.url ?? '', BLOB)).status).toBe(503);
    await sim.close();
    sim = await startEnvoySim(tlsBootstrap(true), { ca: cert });
    expect((await request(sim.listeners[0]?.url ?? '', BLOB)).status).toBe(200);
  });
});

describe('startEnvoy', () => {
  it('uses the simulator when no envoy binary is available (or ENVOY_SIM=1)', async () => {
    const b = bootstrap({ registryPort: 1, siblingPort: 2, processorPort: 3 });
    const h = await startEnvoy(b, {}, { ENVOY_SIM: '1' });
    try {
      expect(h.kind).toBe('simulator');
      expect(h.listeners[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await h.counter('streams_started')).toBe(0);
    } finally {
      await h.close();
    }
  });
});
