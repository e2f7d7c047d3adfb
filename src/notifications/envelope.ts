/**
 * distribution's notification envelope, as a registry POSTs it to each `notifications.endpoints`
 * entry: https://distribution.github.io/distribution/about/notifications/ ("Envelope", "Events").
 * A registry retries a delivery it did not get a 2xx/3xx for, forever and in order, so only an
 * envelope that cannot be one is refused; events geosync has no use for are accepted and skipped.
 */

/**
 * The envelope's media types: distribution 2.x sends v1, 3.x sends v2 (seen from v3.1.2:
 * test/integration/cli/serve-registry-v3.test.ts), with the same envelope and the event fields
 * geosync reads. Refusing v2 made a 3.x registry retry every delivery forever and geosync count no
 * pushes.
 */
export const EVENTS_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.events.v1+json',
  'application/vnd.docker.distribution.events.v2+json',
];
export const EVENTS_MEDIA_TYPE = EVENTS_MEDIA_TYPES[0] as string;

/** Longer ids are no id distribution makes (it uses UUIDs). */
const MAX_ID_LENGTH = 256;

export interface EventTarget {
  readonly mediaType?: string;
  readonly digest?: string;
  readonly repository?: string;
  readonly tag?: string;
  readonly url?: string;
}

export interface RegistryEvent {
  readonly id: string;
  /** `timestamp`, in milliseconds since the epoch. */
  readonly at: number;
  /** `push`, `pull`, `mount`, `delete` today. */
  readonly action: string;
  readonly target: EventTarget;
}

export type ParsedEnvelope =
  | { readonly ok: true; readonly events: readonly RegistryEvent[] }
  | { readonly ok: false; readonly reason: string };

export function parseEnvelope(body: string): ParsedEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(raw) || !Array.isArray(raw.events)) return { ok: false, reason: 'no events list' };
  const events: RegistryEvent[] = [];
  for (const [i, item] of raw.events.entries()) {
    const event = parseEvent(item);
    if (typeof event === 'string') return { ok: false, reason: `events[${i}]: ${event}` };
    events.push(event);
  }
  return { ok: true, events };
}

function parseEvent(item: unknown): RegistryEvent | string {
  if (!isObject(item)) return 'not an object';
  const { id, timestamp, action, target } = item;
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return 'id must be a string';
  if (typeof action !== 'string' || action === '') return 'action must be a string';
  const at = typeof timestamp === 'string' ? parseTimestamp(timestamp) : undefined;
  if (at === undefined) return 'timestamp must be an RFC 3339 date-time';
  if (!isObject(target)) return 'target must be an object';
  const t: Record<string, string> = {};
  for (const key of ['mediaType', 'digest', 'repository', 'tag', 'url'] as const) {
    const value = target[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') return `target.${key} must be a string`;
    t[key] = value;
  }
  return { id, at, action, target: t };
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time (https://www.rfc-editor.org/rfc/rfc3339#section-5.6), as Go's
 * time.Time marshals it: nanoseconds and any offset. Milliseconds since the epoch (fraction kept).
 */
export function parseTimestamp(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const fractionMs = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const offsetMin = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls an impossible day (Feb 30) into the next month: that is no date.
  if (new Date(utc).getUTCDate() !== day) return undefined;
  return utc + fractionMs - offsetMin * 60_000;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
