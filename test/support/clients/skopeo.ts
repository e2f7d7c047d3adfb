/**
 * skopeo (Debian, 1.9) as the OCI client of the tests: pushes generated layouts to a real
 * registry and pulls from it, over plain HTTP on loopback. `--insecure-policy` because the
 * machine's /etc/containers/policy.json is not the tests' business.
 */
import { run } from '../process';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface PushOptions {
  /** Copy every platform of an index (`--all`); default true. */
  readonly all?: boolean;
  readonly creds?: Credentials;
  readonly timeoutMs?: number;
}

/** `skopeo copy oci:<layoutDir>:<tag> docker://<host>/<repository>:<destTag ?? tag>` */
export async function skopeoPush(
  layoutDir: string,
  tag: string,
  dest: { readonly host: string; readonly repository: string; readonly tag?: string },
  opts: PushOptions = {},
): Promise<void> {
  const args = ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--retry-times=0'];
  if (opts.all ?? true) args.push('--all');
  if (opts.creds) args.push('--dest-creds', `${opts.creds.username}:${opts.creds.password}`);
  args.push(`oci:${layoutDir}:${tag}`, `docker://${dest.host}/${dest.repository}:${dest.tag ?? tag}`);
  await run('skopeo', args, { timeoutMs: opts.timeoutMs ?? 60_000 });
}

/**
 * Pulls `<repository>:<tag>` or `<repository>@<digest>` into an OCI layout at `destDir` (tagged
 * `destTag`); rejects with skopeo's output when the registry refuses.
 */
export async function skopeoPull(
  src: { readonly host: string; readonly repository: string; readonly reference: string },
  destDir: string,
  opts: {
    readonly destTag?: string;
    readonly creds?: Credentials;
    readonly timeoutMs?: number;
    readonly all?: boolean;
  } = {},
): Promise<void> {
  const sep = src.reference.includes(':') ? '@' : ':';
  const args = ['--insecure-policy', 'copy', '--src-tls-verify=false', '--retry-times=0'];
  if (opts.all) args.push('--all');
  if (opts.creds) args.push('--src-creds', `${opts.creds.username}:${opts.creds.password}`);
  args.push(
    `docker://${src.host}/${src.repository}${sep}${src.reference}`,
    `oci:${destDir}:${opts.destTag ?? 'pulled'}`,
  );
  await run('skopeo', args, { timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** `skopeo inspect --raw`: the manifest bytes as the registry serves them. */
export async function skopeoInspectRaw(
  src: { readonly host: string; readonly repository: string; readonly reference: string },
  opts: { readonly creds?: Credentials; readonly timeoutMs?: number } = {},
): Promise<string> {
  const sep = src.reference.includes(':') ? '@' : ':';
  const args = ['--insecure-policy', 'inspect', '--raw', '--tls-verify=false', '--retry-times=0'];
  if (opts.creds) args.push('--creds', `${opts.creds.username}:${opts.creds.password}`);
  args.push(`docker://${src.host}/${src.repository}${sep}${src.reference}`);
  const { stdout } = await run('skopeo', args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  return stdout;
}

/** skopeo from one registry to another, both plain HTTP. */
export function skopeoCopy(src: string, dst: string, env?: NodeJS.ProcessEnv) {
  return run(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--retry-times=0',
      `docker://${src}`,
      `docker://${dst}`,
    ],
    { timeoutMs: 60_000, ...(env ? { env } : {}) },
  );
}
