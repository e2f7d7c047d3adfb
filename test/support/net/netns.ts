/**
 * Network namespaces of a test's own, standing in for the networks of two pods: each has its own
 * loopback and one address on a veth link to the other, and nothing else (no interface of the
 * machine, no route off it). What runs in one (podman with `--network host`, a client) reaches
 * the other by its address, as pods reach each other by pod IP. Needs root (`ip netns`).
 */
import { inNetns } from '../images/podman';
import { run } from '../process';

export interface LinkedNamespaces {
  /** `ip netns` names. */
  readonly names: readonly [string, string];
  /** Each namespace's address on the link. */
  readonly addresses: readonly [string, string];
  remove(): Promise<void>;
}

const ip = (args: string[]) => run('ip', args, { timeoutMs: 30_000 });

/**
 * Two namespaces `<prefix>a` and `<prefix>b` joined by a veth pair, at 192.0.2.1 and 192.0.2.2
 * (TEST-NET-1, RFC 5737: never routed, and here confined to the link).
 */
export async function linkedNamespaces(prefix: string): Promise<LinkedNamespaces> {
  const names = [`${prefix}a`, `${prefix}b`] as const;
  const addresses = ['192.0.2.1', '192.0.2.2'] as const;
  const remove = async () => {
    // Deleting a namespace removes its end of the link, and with it the other end.
    for (const n of names) await ip(['netns', 'delete', n]).catch(() => {});
  };
  try {
    for (const n of names) {
      await ip(['netns', 'add', n]);
      await ip(['-n', n, 'link', 'set', 'lo', 'up']);
    }
    await ip([
      'link',
      'add',
      `${prefix}va`,
      'netns',
      names[0],
      'type',
      'veth',
      'peer',
      'name',
      `${prefix}vb`,
      'netns',
      names[1],
    ]);
    for (const [i, n] of names.entries()) {
      const dev = `${prefix}v${'ab'[i]}`;
      await ip(['-n', n, 'addr', 'add', `${addresses[i]}/24`, 'dev', dev]);
      await ip(['-n', n, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { names, addresses, remove };
}

/** Runs `command args` inside the namespace; rejects with its output when it fails. */
export function runIn(
  netns: string,
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  const [cmd, full] = inNetns(netns, command, args);
  return run(cmd, full, { timeoutMs });
}

/** An HTTP GET from inside the namespace (curl): its status (0: no answer) and body. */
export async function httpGet(netns: string, url: string): Promise<{ status: number; body: string }> {
  const marker = '\n--status:';
  const out = await runIn(
    netns,
    'curl',
    ['-s', '--max-time', '5', '-w', `${marker}%{http_code}`, url],
    15_000,
  ).catch((err: Error) => ({ stdout: `${marker}000`, stderr: err.message }));
  const at = out.stdout.lastIndexOf(marker);
  return { status: Number(out.stdout.slice(at + marker.length)), body: out.stdout.slice(0, at) };
}
