/**
 * A pod of the chart stops without dropping pulls. Envoy exits at once on SIGTERM, so it must
 * drain before it gets one:
 *
 * - as rendered, for every install path's values file: Envoy (and the registry, in the sidecar)
 *   sleep in preStop as long as the geosync container's hook waits, which is Envoy's drain time
 *   plus envoy.inFlightGraceSeconds; Envoy drains with --drain-strategy immediate; the hook runs
 *   the Node of geosync's image (deploy/Dockerfile) against Envoy's admin address from the
 *   configuration; terminationGracePeriodSeconds covers the hooks and geosync's drainMs, and a
 *   shorter one is refused;
 * - on the real Envoy: the chart rendered with short times and this machine's ports, the bootstrap
 *   `geosync envoy-config` writes from the rendered ConfigMap, Envoy started with the Envoy
 *   container's rendered arguments, and the geosync container's rendered preStop command run as
 *   it stands (only its Node binary is this machine's): after the drain began, a new connection is
 *   still accepted but its response asks the client to close; after the drain time the listener
 *   refuses connections; a blob download that was running all along completes in full; the hook
 *   returns only when the preStop time has passed. A hook whose Envoy does not answer still waits,
 *   then fails with the reason (what the kubelet shows in a FailedPreStopHook event).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { envoyBinary, pinnedVersions } from '../../support/envoy/envoy';
import { ROOT, runCli } from '../../support/clients/geosync-cli';
import { freePorts } from '../../support/net/ports';
import { spawnManaged, until, waitForHttp } from '../../support/process';
import { CHART, VALUES_FILES, containers, helmTemplate, helmTemplateError, type Doc } from './chart';

jest.setTimeout(120_000);

/** A container of the Deployment's pod. */
const container = (docs: Doc[], name: string): Doc =>
  containers(docs).find((c) => c.where.startsWith('Deployment ') && c.container.name === name)?.container;
const podSpec = (docs: Doc[]): Doc => docs.find((d) => d.kind === 'Deployment').spec.template.spec;
const argAfter = (args: string[], flag: string): string => args[args.indexOf(flag) + 1] ?? `(no ${flag})`;

describe.each(VALUES_FILES)('install path %s, as rendered', (file) => {
  const values = path.join(CHART, 'ci', file);
  let docs: Doc[] = [];
  beforeAll(async () => {
    docs = await helmTemplate(values);
  });

  test('Envoy drains first, and everything it needs stays up as long', () => {
    const envoy = container(docs, 'envoy');
    const geosync = container(docs, 'geosync');
    // The pinned release the tests run, in its image without a shell.
    expect(envoy.image).toBe(`envoyproxy/envoy:distroless-v${pinnedVersions().newest}`);
    const drain = Number(argAfter(envoy.args, '--drain-time-s'));
    expect(argAfter(envoy.args, '--drain-strategy')).toBe('immediate');
    const wait = envoy.lifecycle.preStop.sleep.seconds;
    // The drain, then the running requests' grace (envoy.inFlightGraceSeconds, 10 by default).
    expect(wait).toBeGreaterThan(drain);
    // The registry answers Envoy until Envoy has drained.
    const registry = container(docs, 'registry');
    if (registry) expect(registry.lifecycle.preStop.sleep.seconds).toBe(wait);
    // geosync's hook starts the drain on Envoy's admin address and waits as long.
    const config = parse(docs.find((d) => d.kind === 'ConfigMap').data['geosync.yaml']);
    const [node, flag, script] = geosync.lifecycle.preStop.exec.command;
    expect([node, flag]).toEqual([dockerfileNode(), '-e']);
    expect(script).toContain(
      `fetch('http://${config.envoy.admin.address}:${config.envoy.admin.port}/drain_listeners?graceful', { method: 'POST'`,
    );
    expect(script).toContain(`const end = Date.now() + ${wait} * 1000;`);
    // Then SIGTERM; geosync answers open streams for drainMs; the kubelet kills what still runs
    // at the end of the grace period.
    expect(podSpec(docs).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      wait + Math.ceil(config.drainMs / 1000),
    );
  });

  test('a grace period shorter than the hooks and drainMs is refused', async () => {
    expect(await helmTemplateError(values, 'terminationGracePeriodSeconds=30')).toMatch(
      /terminationGracePeriodSeconds \(30\) must be at least 35: envoy\.drainTimeSeconds \(15\) \+ envoy\.inFlightGraceSeconds \(10\) \+ config\.drainMs \(5000 ms/,
    );
    await helmTemplate(values, 'terminationGracePeriodSeconds=35');
  });
});

/** The Node binary of geosync's image: the first word of deploy/Dockerfile's ENTRYPOINT. */
function dockerfileNode(): string {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!entrypoint) throw new Error('deploy/Dockerfile has no ENTRYPOINT [...]');
  const [node] = JSON.parse(entrypoint) as string[];
  if (!node) throw new Error('deploy/Dockerfile: an empty ENTRYPOINT');
  return node;
}

/** Runs a rendered exec hook with this machine's Node in place of the image's. */
function runHook(command: string[]): {
  exited: Promise<{ code: number | null; output: string }>;
  output: () => string;
} {
  const [, ...args] = command;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, output })),
  );
  return { exited, output: () => output };
}

describe('on the real Envoy', () => {
  let tmp: string;
  let ports: { admin: number; listener: number; registry: number; grpc: number; sibling: number };
  let registry: http.Server;
  /** Blob downloads the fake registry holds open until released. */
  const held: http.ServerResponse[] = [];
  const BLOB = 'x'.repeat(64 * 1024);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-helm-drain-'));
    const [admin, listener, reg, grpc, sibling] = await freePorts(5);
    ports = { admin: admin!, listener: listener!, registry: reg!, grpc: grpc!, sibling: sibling! };
    // The local registry: every blob GET sends half its body and waits to be released.
    registry = http.createServer((req, res) => {
      if (req.url?.includes('/blobs/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BLOB.length });
        res.write(BLOB.slice(0, BLOB.length / 2));
        held.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => registry.listen(ports.registry, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await new Promise((resolve) => registry?.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The sidecar's values with this machine's loopback ports, plain HTTP, and short drain times. */
  async function render(
    envoy: { drainTimeSeconds: number; inFlightGraceSeconds: number },
    adminPort: number,
  ) {
    const base = parse(fs.readFileSync(path.join(CHART, 'ci/sidecar-values.yaml'), 'utf8')) ?? {};
    const defaults = parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
    const overlay = {
      ...base,
      tlsSecretName: '',
      envoy,
      config: {
        ...defaults.config,
        listen: { grpc: `127.0.0.1:${ports.grpc}`, admin: '0.0.0.0:9003' },
        // Sibling URLs on loopback: Envoy resolves nothing beyond this machine.
        regions: defaults.config.regions.map((r: Doc, i: number) => ({
          ...r,
          url: `http://127.0.10.${i + 1}:${ports.sibling}`,
        })),
        envoy: {
          // Plain HTTP (null deletes the chart default's TLS files).
          listener: { address: '127.0.0.1', port: ports.listener, tls: null },
          admin: { address: '127.0.0.1', port: adminPort },
          localRegistry: { address: '127.0.0.1', port: ports.registry },
        },
      },
    };
    const file = path.join(tmp, `values-${adminPort}.yaml`);
    fs.writeFileSync(file, stringify(overlay));
    return helmTemplate(file);
  }

  /**
   * One request on a new keep-alive connection (so that only Envoy's drain asks to close it): its
   * status, its Connection header and its body.
   */
  function get(url: string): Promise<{ status: number; connection?: string; body: string }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    return new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
      const req = http.get(url, { agent, timeout: 30_000 }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    }).finally(() => agent.destroy());
  }

  function refuses(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
  }

  test("the geosync container's preStop drains Envoy: new connections told to close, then refused; a running download completes", async () => {
    const times = { drainTimeSeconds: 6, inFlightGraceSeconds: 2 };
    const docs = await render(times, ports.admin);
    const envoyArgs: string[] = container(docs, 'envoy').args;
    const bootstrapPath = argAfter(envoyArgs, '-c');
    // The init container's command on the rendered ConfigMap, written where Envoy's -c reads.
    const configFile = path.join(tmp, 'geosync.yaml');
    fs.writeFileSync(configFile, docs.find((d) => d.kind === 'ConfigMap').data['geosync.yaml']);
    const bootstrap = path.join(tmp, path.basename(bootstrapPath));
    const written = await runCli(['envoy-config', '--config', configFile, '--output', bootstrap]);
    expect([written.code, written.stderr]).toEqual([0, expect.stringContaining('wrote the Envoy bootstrap')]);

    // Envoy with the container's arguments (its bootstrap path made this machine's), and no shared
    // memory, so that it runs beside the other Envoys of the test suite.
    const args = envoyArgs.map((a) => (a === bootstrapPath ? bootstrap : a));
    const envoy = spawnManaged('envoy', envoyBinary('newest').path, [...args, '--disable-hot-restart'], {
      logDir: tmp,
    });
    try {
      const admin = `http://127.0.0.1:${ports.admin}`;
      await waitForHttp(`${admin}/ready`, { timeoutMs: 30_000, proc: envoy, ready: (s) => s === 200 });
      const listener = `http://127.0.0.1:${ports.listener}`;
      const blob = `${listener}/v2/team/app/blobs/sha256:${'a'.repeat(64)}`;
      expect(await get(`${listener}/v2/`)).toEqual({ status: 200, connection: undefined, body: '{}' });

      // A download runs when the pod starts to stop.
      const running = get(blob);
      await until('the download reaches the registry', async () => held.length === 1, 10_000);

      const hookStarted = Date.now();
      const hook = runHook(container(docs, 'geosync').lifecycle.preStop.exec.command);
      await until(
        'the hook has started the drain',
        async () => hook.output().includes('envoy drain: HTTP 200'),
        30_000,
      );

      // Draining: a new connection is accepted, and its response asks the client to close.
      expect(await get(`${listener}/v2/`)).toEqual({ status: 200, connection: 'close', body: '{}' });
      const stats = await (await fetch(`${admin}/stats?format=json&filter=downstream_cx_drain_close`)).json();
      expect(stats).toEqual({
        stats: expect.arrayContaining([
          { name: 'http.registry_ingress.downstream_cx_drain_close', value: 1 },
        ]),
      });

      // After the drain time the listener closes: new connections are refused.
      await until('the listener refuses connections', () => refuses(ports.listener), 30_000);
      // The download that ran all along completes, whole.
      for (const res of held) res.end(BLOB.slice(BLOB.length / 2));
      expect(await running).toEqual({ status: 200, connection: undefined, body: BLOB });

      // The hook returns only when Envoy, geosync and the registry are due for SIGTERM.
      const { code, output } = await hook.exited;
      expect([code, output]).toEqual([0, 'envoy drain: HTTP 200\n']);
      expect(Date.now() - hookStarted).toBeGreaterThanOrEqual(
        (times.drainTimeSeconds + times.inFlightGraceSeconds) * 1000,
      );
      // Envoy itself runs on until then (its preStop sleeps as long), and exits 0 on SIGTERM.
      expect((await fetch(`${admin}/ready`)).status).toBe(200);
    } finally {
      await envoy.stop(10_000);
    }
    expect(await envoy.exited).toBe(0);
  });

  test('a hook whose Envoy does not answer waits all the same, then fails with the reason', async () => {
    // The admin address of an Envoy that is gone: nothing listens on the siblings' port.
    const docs = await render({ drainTimeSeconds: 1, inFlightGraceSeconds: 1 }, ports.sibling);
    const started = Date.now();
    const { code, output } = await runHook(container(docs, 'geosync').lifecycle.preStop.exec.command).exited;
    expect([code, output]).toEqual([1, expect.stringMatching(/^envoy drain failed: fetch failed\n$/)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });
});
