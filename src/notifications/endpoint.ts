/**
 * The admin route a registry's `notifications.endpoints` entry points at. In order: the shared
 * secret (401 without it, before any byte of the body is read), the media type (415), the size
 * (413 beyond `maxBodyBytes`), the envelope (400 when it cannot be one), then each event once by
 * id. Accepted envelopes are answered 202 at once; what the events mean is worked out afterwards
 * (`onEvents`), so a slow sibling storage never holds up the registry's delivery queue.
 * Headers are never logged: one of them is the secret.
 */
import type http from 'node:http';
import type { AdminRoute } from '../admin/server';
import type { Logger } from '../log/logger';
import { readBoundedBody } from './bounded-body';
import { EVENTS_MEDIA_TYPES, parseEnvelope, type RegistryEvent } from './envelope';
import type { SeenEvents } from './seen-events';
import type { SharedSecret } from './shared-secret';
import { reply } from '../admin/reply';

/** Far above one envelope (distribution sends about 1 KiB per event). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type NotificationResult =
  'accepted' | 'unauthorized' | 'unsupported_media_type' | 'too_large' | 'malformed' | 'aborted';

export interface NotificationsEndpointOptions {
  readonly secret: SharedSecret;
  readonly seen: SeenEvents;
  readonly log: Logger;
  /** Events seen for the first time, in envelope order. */
  readonly onEvents: (events: readonly RegistryEvent[]) => void;
  /** Every request's result, and how many events were re-deliveries. */
  readonly onRequest?: (result: NotificationResult, duplicates: number) => void;
  readonly maxBodyBytes?: number;
}

export function notificationsEndpoint(opts: NotificationsEndpointOptions): AdminRoute {
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const finish = (res: http.ServerResponse, result: NotificationResult, status: number, body: string) => {
    opts.onRequest?.(result, 0);
    if (result !== 'aborted') opts.log.debug({ result, status }, 'notification refused');
    // A refused request's body may still be on its way: close instead of reading it.
    reply(res, status, body, { headers: { connection: 'close' } });
  };
  return async (req, res) => {
    if (!opts.secret.matches(req.headers)) return finish(res, 'unauthorized', 401, 'unauthorized\n');
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (!EVENTS_MEDIA_TYPES.includes(type ?? '') || encoding !== 'identity') {
      return finish(res, 'unsupported_media_type', 415, `expected ${EVENTS_MEDIA_TYPES.join(' or ')}\n`);
    }
    const body = await readBoundedBody(req, maxBodyBytes);
    if (!body.ok) {
      if (body.reason === 'aborted') return finish(res, 'aborted', 400, 'incomplete body\n');
      return finish(res, 'too_large', 413, `larger than ${maxBodyBytes} bytes\n`);
    }
    const envelope = parseEnvelope(body.body.toString('utf8'));
    if (!envelope.ok) return finish(res, 'malformed', 400, `malformed envelope: ${envelope.reason}\n`);
    const fresh = envelope.events.filter((e) => opts.seen.firstTime(e.id));
    const duplicates = envelope.events.length - fresh.length;
    opts.onRequest?.('accepted', duplicates);
    reply(res, 202, JSON.stringify({ accepted: fresh.length, duplicates }) + '\n', { json: true });
    if (fresh.length > 0) opts.onEvents(fresh);
  };
}
