/**
 * `geosync staleness --admin URL [--json]`: fetches a running geosync's `/staleness` report and
 * prints it as a table (or the JSON as served).
 */
import { ADMIN_PATHS } from '../config/admin-paths';
import type { StalenessReport } from '../staleness/report';
import { formatStalenessTable } from '../staleness/table';
import { EXIT, parseFlags, type Command } from './command';

const TIMEOUT_MS = 10_000;

export const stalenessCommand: Command = {
  name: 'staleness',
  usage: 'geosync staleness --admin URL [--json]',
  summary: "print a region's staleness report (replication lag, time to pullable, rescues)",
  async run(args, io) {
    const { flags, positional, errors } = parseFlags(args, ['admin'], ['json']);
    const admin = flags.get('admin');
    if (positional.length > 0) errors.push(`unexpected argument "${positional[0]}"`);
    if (!admin)
      errors.push('--admin URL is required (the geosync admin address, e.g. http://127.0.0.1:9003)');
    else if (!/^https?:\/\/[^/]+\/?$/.test(admin))
      errors.push(`--admin must be an http(s) URL, got "${admin}"`);
    if (errors.length > 0) {
      io.stderr(`${errors.join('\n')}\nusage: ${this.usage}\n`);
      return EXIT.usage;
    }
    const url = `${(admin as string).replace(/\/$/, '')}${ADMIN_PATHS.staleness}`;
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      text = await res.text();
      if (res.status !== 200) {
        io.stderr(`${url} answered ${res.status}: ${text.slice(0, 200)}\n`);
        return EXIT.failure;
      }
    } catch (err) {
      io.stderr(`cannot fetch ${url}: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    if (flags.get('json') === 'true') {
      io.stdout(text);
      return EXIT.ok;
    }
    let report: StalenessReport;
    try {
      report = JSON.parse(text) as StalenessReport;
    } catch {
      io.stderr(`${url} did not answer JSON\n`);
      return EXIT.failure;
    }
    io.stdout(formatStalenessTable(report));
    return EXIT.ok;
  },
};
