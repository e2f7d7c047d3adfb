/**
 * The reference replicator (deploy/replication/replicate.sh, which the chart's CronJobs run) copies
 * between two real registries that require htpasswd basic auth (distribution v3; apache2-utils'
 * htpasswd) with credentials from a containers-auth.json file (REGISTRY_AUTH_FILE, what the chart
 * mounts from its Secret) or from the environment (SRC_CREDS / DEST_CREDS), and no process it
 * starts carries a credential in its arguments, which every user of a machine can read (ps,
 * /proc/PID/cmdline).
 *
 * How the arguments are seen: the script runs with a PATH holding only shims, one per command it
 * uses, each of which records its argv (what /proc/PID/cmdline of the real binary then shows,
 * since the shim execs it with the same arguments) and execs the real binary. A command without a
 * shim is not found and fails the run, so no process escapes the record.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOciImage, type OciImage } from '../../support/oci/oci-image';
import { startRegistry, type Registry } from '../../support/registries/registry';
import { REPLICATE_SCRIPT } from '../../support/stacks/replicator';
import { run } from '../../support/process';
import { skopeoInspectRaw, skopeoPush, type Credentials } from '../../support/clients/skopeo';

jest.setTimeout(120_000);

/** Every external command replicate.sh runs (bash builtins aside). */
const COMMANDS = ['skopeo', 'curl', 'base64', 'tr', 'sed', 'mktemp', 'rm', 'dirname'];
const SOURCE_USER: Credentials = { username: 'region-a-reader', password: 'pw-of-a-Xq7#v9' };
const DEST_USER: Credentials = { username: 'region-b-writer', password: 'pw-of-b-Lm2$k4' };
const REPOSITORY = 'team/app';

const basic = (c: Credentials) => Buffer.from(`${c.username}:${c.password}`).toString('base64');
/** Every form in which a credential could leak: each password, each USER:PASSWORD and its base64. */
const SECRETS = [SOURCE_USER, DEST_USER].flatMap((c) => [
  c.password,
  `${c.username}:${c.password}`,
  basic(c),
]);

let tmp: string;
let source: Registry;
let image: OciImage;
let shims: string;

/** A directory of shims for COMMANDS, each recording its argv into `$SHIM_LOG/<name>.<pid>`. */
function makeShims(dir: string): string {
  fs.mkdirSync(dir);
  for (const name of COMMANDS) {
    const real = ['/usr/bin', '/bin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
    if (!real) throw new Error(`${name} is not installed`);
    fs.writeFileSync(
      path.join(dir, name),
      `#!/bin/bash\nprintf '%s\\0' "$0" "$@" >"$SHIM_LOG/${name}.$$"\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return dir;
}

interface Replication {
  readonly code: number;
  readonly output: string;
  /** The argv of every process the script started, in no particular order. */
  readonly argvs: string[][];
  /** What the script left in its TMPDIR. */
  readonly leftInTmp: string[];
}

async function replicate(dest: Registry, env: NodeJS.ProcessEnv): Promise<Replication> {
  const dir = fs.mkdtempSync(path.join(tmp, 'run-'));
  const log = path.join(dir, 'argv');
  const tmpdir = path.join(dir, 'tmp');
  fs.mkdirSync(log);
  fs.mkdirSync(tmpdir);
  const result = await run('/bin/bash', [REPLICATE_SCRIPT, source.host, dest.host], {
    timeoutMs: 90_000,
    env: {
      PATH: shims,
      HOME: dir,
      SHIM_LOG: log,
      TMPDIR: tmpdir,
      SRC_TLS_VERIFY: 'false',
      DEST_TLS_VERIFY: 'false',
      ...env,
    },
  }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (err: Error) => ({ code: 1, output: err.message }),
  );
  const argvs = fs
    .readdirSync(log)
    .map((f) => fs.readFileSync(path.join(log, f), 'utf8').split('\0').slice(0, -1));
  return { ...result, argvs, leftInTmp: fs.readdirSync(tmpdir) };
}

const commandsRun = (r: Replication) => new Set(r.argvs.map((a) => path.basename(a[0] ?? '')));
const leaks = (r: Replication) =>
  r.argvs.filter((argv) => SECRETS.some((s) => argv.some((arg) => arg.includes(s)))).map((a) => a.join(' '));

async function destDigest(dest: Registry): Promise<string> {
  const raw = await skopeoInspectRaw(
    { host: dest.host, repository: REPOSITORY, reference: image.tag },
    { creds: DEST_USER },
  );
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-replicate-'));
  shims = makeShims(path.join(tmp, 'bin'));
  source = await startRegistry({
    storage: { type: 'filesystem', root: path.join(tmp, 'a') },
    auth: SOURCE_USER,
  });
  image = createOciImage(path.join(tmp, 'image'), { tag: 'v1', layerSizes: [2048] });
  await skopeoPush(image.dir, 'v1', { host: source.host, repository: REPOSITORY }, { creds: SOURCE_USER });
});
afterAll(async () => {
  await source?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each([
  [
    'a containers-auth.json file (REGISTRY_AUTH_FILE), as the chart mounts it',
    'file',
    (dest: Registry): NodeJS.ProcessEnv => {
      // As `kubectl create secret docker-registry` writes it (pretty-printed here), with both registries.
      const entry = (c: Credentials) => ({ username: c.username, password: c.password, auth: basic(c) });
      const file = path.join(tmp, `auth-${dest.port}.json`);
      const auths = { [source.host]: entry(SOURCE_USER), [dest.host]: entry(DEST_USER) };
      fs.writeFileSync(file, JSON.stringify({ auths }, null, 2), { mode: 0o600 });
      return { REGISTRY_AUTH_FILE: file };
    },
  ],
  [
    'the environment (SRC_CREDS, DEST_CREDS)',
    'env',
    (): NodeJS.ProcessEnv => ({
      SRC_CREDS: `${SOURCE_USER.username}:${SOURCE_USER.password}`,
      DEST_CREDS: `${DEST_USER.username}:${DEST_USER.password}`,
    }),
  ],
] as const)('credentials from %s', (_how, key, credentials) => {
  let dest: Registry;
  beforeAll(async () => {
    dest = await startRegistry({
      storage: { type: 'filesystem', root: path.join(tmp, `b-${key}`) },
      auth: DEST_USER,
    });
  });
  afterAll(() => dest?.stop());

  test('the image is copied (the catalog listed with them), and no process got one in its arguments', async () => {
    const r = await replicate(dest, credentials(dest));
    expect([r.code, r.output]).toEqual([0, expect.any(String)]);
    expect(await destDigest(dest)).toBe(image.manifestDigest);
    // The check saw the processes that need the credentials: curl (the catalog) and skopeo.
    expect([...commandsRun(r)]).toEqual(expect.arrayContaining(['curl', 'skopeo']));
    expect(leaks(r)).toEqual([]);
    // Its private files are gone.
    expect(r.leftInTmp).toEqual([]);
  });
});

test('without credentials both registries refuse: the credentials above were needed', async () => {
  const dest = await startRegistry({
    storage: { type: 'filesystem', root: path.join(tmp, 'b-none') },
    auth: DEST_USER,
  });
  try {
    // The chart's default: the optional Secret is absent, so REGISTRY_AUTH_FILE names no file.
    const r = await replicate(dest, { REGISTRY_AUTH_FILE: path.join(tmp, 'absent.json') });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/401/);
    const withDestOnly = await replicate(dest, {
      DEST_CREDS: `${DEST_USER.username}:${DEST_USER.password}`,
    });
    expect([withDestOnly.code, withDestOnly.output]).toEqual([1, expect.stringMatching(/401/)]);
    expect(leaks(withDestOnly)).toEqual([]);
  } finally {
    await dest.stop();
  }
});
