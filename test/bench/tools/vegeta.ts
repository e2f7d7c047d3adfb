/**
 * The HTTP load generator: vegeta (https://github.com/tsenart/vegeta), installed by
 * scripts/bench-tools.sh. Two ways to drive it:
 *
 * - `closedLoop`: C workers, each sending its next request as soon as the previous answer is read
 *   (`-rate=0 -max-workers=C`), for a fixed duration: throughput at a given concurrency.
 * - `burst`: every target once, all at the same moment up to C in flight (`-lazy`, the attack ends
 *   when the targets do): a herd.
 *
 * Results come from vegeta itself: `vegeta report -type=json` for its summary (throughput,
 * success ratio, status codes, percentiles) and `vegeta encode` for every request (latency,
 * status, headers), from which the distributions and the per-response checks are computed.
 * Response bodies are read to the end and discarded (`-max-body=0`); a redirect the client would
 * see is a failure (`-redirects=0`), since Envoy must follow geosync's 307s itself.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { run } from '../../support/process';
import { ROOT } from '../../support/clients/geosync-cli';

export interface HttpTarget {
  readonly method: 'GET' | 'HEAD';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RequestResult {
  readonly url: string;
  readonly code: number;
  readonly latencyMs: number;
  readonly error: string;
  readonly digest?: string;
}

export interface AttackResult {
  readonly requests: number;
  readonly successes: number;
  /** Successful requests per second over the attack, as vegeta reports it. */
  readonly throughput: number;
  readonly wallSeconds: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  /** vegeta's own percentiles (ms), for cross-checking the ones computed from `results`. */
  readonly vegetaPercentilesMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly results: readonly RequestResult[];
}

/** Where scripts/bench-tools.sh installs vegeta (VEGETA_BIN overrides). */
export async function vegetaBinary(env = process.env): Promise<string> {
  if (env.VEGETA_BIN) return env.VEGETA_BIN;
  const { stdout } = await run('bash', [path.join(ROOT, 'scripts/bench-tools.sh'), '--print-path'], {
    timeoutMs: 10_000,
  });
  const bin = stdout.trim();
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run scripts/bench-tools.sh`);
  return bin;
}

export class Vegeta {
  constructor(
    private readonly bin: string,
    private readonly workDir: string,
  ) {}

  closedLoop(targets: readonly HttpTarget[], concurrency: number, seconds: number): Promise<AttackResult> {
    return this.attack(targets, [
      '-rate=0',
      `-workers=${concurrency}`,
      `-max-workers=${concurrency}`,
      `-duration=${Math.round(seconds * 1000)}ms`,
    ]);
  }

  burst(targets: readonly HttpTarget[], concurrency: number): Promise<AttackResult> {
    return this.attack(targets, [
      '-lazy',
      '-rate=0',
      `-workers=${concurrency}`,
      `-max-workers=${concurrency}`,
    ]);
  }

  private async attack(targets: readonly HttpTarget[], mode: readonly string[]): Promise<AttackResult> {
    const file = fs.mkdtempSync(path.join(this.workDir, 'attack-'));
    const out = path.join(file, 'results.bin');
    try {
      await this.spawnAttack(targets, [
        'attack',
        '-format=json',
        '-max-body=0',
        '-redirects=0',
        '-timeout=120s',
        `-output=${out}`,
        ...mode,
      ]);
      const report = JSON.parse(
        (await run(this.bin, ['report', '-type=json', out], { timeoutMs: 120_000 })).stdout,
      ) as VegetaReport;
      const results = await this.decode(out);
      const requests = results.length;
      const successes = results.filter((r) => r.code >= 200 && r.code < 300).length;
      return {
        requests,
        successes,
        throughput: report.throughput,
        wallSeconds: (report.duration + report.wait) / 1e9,
        statusCodes: report.status_codes,
        errors: report.errors.filter((e) => e !== NO_TARGETS),
        vegetaPercentilesMs: {
          p50: report.latencies['50th'] / 1e6,
          p99: report.latencies['99th'] / 1e6,
          max: report.latencies.max / 1e6,
        },
        results,
      };
    } finally {
      fs.rmSync(file, { recursive: true, force: true });
    }
  }

  private spawnAttack(targets: readonly HttpTarget[], args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`vegeta ${args.join(' ')} exited ${code}: ${stderr}`)),
      );
      child.stdin.on('error', () => {}); // an attack that ends early closes its input
      for (const t of targets) child.stdin.write(`${JSON.stringify(targetJson(t))}\n`);
      child.stdin.end();
    });
  }

  /** Every request of a results file (`vegeta encode --to json`, one JSON object per line). */
  private async decode(file: string): Promise<RequestResult[]> {
    const child = spawn(this.bin, ['encode', '--to', 'json', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: RequestResult[] = [];
    for await (const line of readline.createInterface({ input: child.stdout })) {
      if (!line) continue;
      const r = JSON.parse(line) as EncodedResult;
      // An attack that ran out of targets records one last non-request.
      if (r.error === NO_TARGETS) continue;
      const digest = r.headers?.['Docker-Content-Digest']?.[0];
      out.push({
        url: r.url,
        code: r.code,
        latencyMs: r.latency / 1e6,
        error: r.error,
        ...(digest ? { digest } : {}),
      });
    }
    return out;
  }
}

const NO_TARGETS = 'no targets to attack';

function targetJson(t: HttpTarget) {
  return {
    method: t.method,
    url: t.url,
    header: Object.fromEntries(Object.entries(t.headers ?? {}).map(([k, v]) => [k, [v]])),
  };
}

interface VegetaReport {
  readonly latencies: Record<'50th' | '99th' | 'max', number>;
  readonly duration: number;
  readonly wait: number;
  readonly throughput: number;
  readonly status_codes: Record<string, number>;
  readonly errors: string[];
}

interface EncodedResult {
  readonly url: string;
  readonly code: number;
  readonly latency: number;
  readonly error: string;
  readonly headers: Record<string, string[]> | null;
}
