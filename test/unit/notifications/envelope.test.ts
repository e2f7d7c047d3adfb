/**
 * distribution's notification envelope: what geosync takes from the events a real registry sends.
 * The fixture holds events docker-registry 2.8.2 sent to a sink in its `notifications.endpoints`
 * (a skopeo push: the config blob's and the manifest's, verbatim; a pull's, with its ids and
 * request shortened), merged into one envelope.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnvelope, parseTimestamp } from '../../../src/notifications/envelope';
import { manifestPush } from '../../../src/notifications/manifest-push';

const recorded = readFileSync(path.join(__dirname, 'fixtures/distribution-2.8.2-push.json'), 'utf8');

describe('parseEnvelope', () => {
  test('a real registry envelope: every event with id, time, action and target', () => {
    const parsed = parseEnvelope(recorded);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.events.map((e) => [e.id.slice(0, 8), e.action, e.target.mediaType])).toEqual([
      ['3af3c016', 'push', 'application/octet-stream'],
      ['b55f956b', 'push', 'application/vnd.oci.image.manifest.v1+json'],
      ['0f8ad9f8', 'pull', 'application/vnd.oci.image.manifest.v1+json'],
    ]);
    expect(parsed.events[1]?.at).toBe(Date.UTC(2026, 11, 2, 2, 20, 30) + 532.891179);
  });

  test.each<[string, string]>([
    ['not json', 'not JSON'],
    ['[]', 'no events list'],
    ['{"events": {}}', 'no events list'],
    ['{"events": [1]}', 'events[0]: not an object'],
    [
      '{"events": [{"timestamp": "2026-01-01T00:00:00Z", "action": "push", "target": {}}]}',
      'events[0]: id must be a string',
    ],
    [
      '{"events": [{"id": "a", "timestamp": "yesterday", "action": "push", "target": {}}]}',
      'events[0]: timestamp must be an RFC 3339 date-time',
    ],
    [
      '{"events": [{"id": "a", "timestamp": "2026-01-01T00:00:00Z", "target": {}}]}',
      'events[0]: action must be a string',
    ],
    [
      '{"events": [{"id": "a", "timestamp": "2026-01-01T00:00:00Z", "action": "push"}]}',
      'events[0]: target must be an object',
    ],
    [
      '{"events": [{"id": "a", "timestamp": "2026-01-01T00:00:00Z", "action": "push", "target": {"digest": 5}}]}',
      'events[0]: target.digest must be a string',
    ],
  ])('refuses %s: %s', (body, reason) => {
    expect(parseEnvelope(body)).toEqual({ ok: false, reason });
  });

  test('an envelope with no events is valid (and empty)', () => {
    expect(parseEnvelope('{"events": []}')).toEqual({ ok: true, events: [] });
  });
});

describe('parseTimestamp (RFC 3339, as Go marshals time.Time)', () => {
  test.each<[string, number | undefined]>([
    ['2026-12-02T02:20:30Z', Date.UTC(2026, 11, 2, 2, 20, 30)],
    ['2026-12-02T02:20:30.5Z', Date.UTC(2026, 11, 2, 2, 20, 30, 500)],
    ['2026-12-02T02:20:30.000000001Z', Date.UTC(2026, 11, 2, 2, 20, 30) + 0.000001],
    ['2026-12-02T04:20:30.25+02:00', Date.UTC(2026, 11, 2, 2, 20, 30, 250)],
    ['2026-12-01T21:50:30-04:30', Date.UTC(2026, 11, 2, 2, 20, 30)],
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-13-01T00:00:00Z', undefined],
    ['2026-12-02 02:20:30Z', undefined],
    ['2026-12-02T02:20:30', undefined],
  ])('%s', (text, expected) => {
    const at = parseTimestamp(text);
    if (expected === undefined) expect(at).toBeUndefined();
    else expect(at).toBeCloseTo(expected, 6);
  });
});

describe('manifestPush', () => {
  const events = (() => {
    const parsed = parseEnvelope(recorded);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.events;
  })();
  const base = events[1]!;

  test('the manifest push of a real envelope, not its blob push or pull', () => {
    expect(events.map((e) => manifestPush(e))).toEqual([
      undefined,
      {
        repository: 'team/app',
        digest: {
          algorithm: 'sha256',
          hex: '2dfaa0bed21c0ecc2f4053fcff1e868e28a219d5b28ba4faef9bf992a162d0d2',
        },
        tag: 'v1',
        at: base.at,
      },
      undefined,
    ]);
  });

  test.each<[string, Record<string, string | undefined>, boolean]>([
    ['by digest, no tag', { tag: undefined }, true],
    [
      'a Docker manifest list',
      { mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' },
      true,
    ],
    ['unknown media type, /manifests/ URL', { mediaType: 'application/vnd.example+json' }, true],
    ['unknown media type, no URL', { mediaType: 'application/vnd.example+json', url: undefined }, false],
    ['a bad repository name', { repository: 'Team/App' }, false],
    ['a bad digest', { digest: 'sha256:abc' }, false],
  ])('%s', (_name, change, expected) => {
    const target = { ...base.target, ...change };
    for (const [k, v] of Object.entries(change))
      if (v === undefined) delete (target as Record<string, unknown>)[k];
    expect(manifestPush({ ...base, target }) !== undefined).toBe(expected);
  });
});
