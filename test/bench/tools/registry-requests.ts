/**
 * Requests as a sibling's registry saw them: distribution's access log (Apache combined format,
 * test/support/registries/registry.ts `accessLog`), read from the registry's log file. geosync's registry-API
 * lookups carry its User-Agent (`geosync/…`, src/registry-api/client.ts), and so do its keep-warm
 * requests (`GET /v2/` every `locate.keepWarmIntervalMs`, src/locate/probe-locator.ts `warm`), told
 * apart by their path; everything else reaching a sibling's registry during a measurement is a
 * client's pull that crossed regions (geosync's internal redirect, or Envoy's retry).
 */
import fs from 'node:fs';

/** `host - user [time] "METHOD target HTTP/x" status size "referer" "user-agent"` */
const COMBINED = /\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/;
/** src/registry-api/client.ts `USER_AGENT` (not imported: it reads package.json beside dist/). */
const GEOSYNC = 'geosync/';

export interface RegistryRequests {
  /** geosync's lookups (registry API). */
  readonly lookups: number;
  /** geosync's keep-warm requests (`GET /v2/`), not lookups. */
  readonly keepWarm: number;
  /** The most lookups one request target (method and path) got. */
  readonly lookupsPerKeyMax: number;
  /** Every other request: pulls that crossed regions. */
  readonly pulls: number;
  /** Of those, answered 404 (a retry that found nothing there). */
  readonly pullsNotFound: number;
  /** By `METHOD status`, lookups apart (`lookup HEAD 200`). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** Starts counting a registry's requests; the result counts those logged since. */
export function countRegistryRequests(logFile: string): () => RegistryRequests {
  const mark = fs.statSync(logFile).size;
  return () => parseAccessLog(readFrom(logFile, mark));
}

function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export function parseAccessLog(text: string): RegistryRequests {
  let lookups = 0;
  let keepWarm = 0;
  let pulls = 0;
  let pullsNotFound = 0;
  const perKey = new Map<string, number>();
  const byKind: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = COMBINED.exec(line);
    if (!m) continue;
    const [, method, target, status, agent] = m as unknown as [string, string, string, string, string];
    const lookup = agent.startsWith(GEOSYNC);
    if (lookup && target.split('?')[0] === '/v2/') {
      keepWarm++;
      continue;
    }
    const kind = `${lookup ? 'lookup ' : ''}${method} ${status}`;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (lookup) {
      lookups++;
      const key = `${method} ${target.split('?')[0]}`;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    } else {
      pulls++;
      if (status === '404') pullsNotFound++;
    }
  }
  return {
    lookups,
    keepWarm,
    lookupsPerKeyMax: Math.max(0, ...perKey.values()),
    pulls,
    pullsNotFound,
    byKind,
  };
}
