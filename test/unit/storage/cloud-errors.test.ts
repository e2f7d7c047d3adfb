/**
 * Azure Blob and GCS failures as probe outcomes, and what their messages keep: the status and the
 * service's error code only, never the request URL (a SAS token's signature rides in it).
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/logger';
import { classifyAzureError } from '../../../src/storage/azure-probe';
import { classifyGcsError } from '../../../src/storage/gcs-probe';

const SAS_URL = 'https://acct.blob.core.windows.net/c/docker/registry/v2/x?sv=2024&sig=SECRETSIG';
const rest = (statusCode: number | undefined, code?: string) =>
  Object.assign(new Error(`request to ${SAS_URL} failed`), { name: 'RestError', statusCode, code });
const api = (code: number | string, message = `GET ${SAS_URL} failed`) =>
  Object.assign(new Error(message), { code });

describe('classifyAzureError', () => {
  it.each([
    ['BlobNotFound', rest(404, 'BlobNotFound'), { status: 'not_found' }],
    ['403 AuthorizationPermissionMismatch', rest(403, 'AuthorizationPermissionMismatch'), { kind: 'denied' }],
    ['503 ServerBusy', rest(503, 'ServerBusy'), { kind: 'throttled' }],
    ['500', rest(500, 'InternalError'), { kind: 'unavailable' }],
    ['connection refused', rest(undefined, 'ECONNREFUSED'), { kind: 'unavailable' }],
    [
      'no managed identity here',
      Object.assign(new Error('x'), { name: 'CredentialUnavailableError' }),
      { kind: 'denied' },
    ],
    ['abort', Object.assign(new Error('a'), { name: 'AbortError' }), { kind: 'aborted' }],
  ])('%s', (_, err, expected) => {
    const result = classifyAzureError(err);
    expect(result).toMatchObject(expected);
    expect(JSON.stringify(result)).not.toContain('SECRETSIG');
  });
});

describe('classifyGcsError', () => {
  it.each([
    ['404', api(404), { status: 'not_found' }],
    ['403', api(403), { kind: 'denied' }],
    ['429', api(429), { kind: 'throttled' }],
    ['502', api(502), { kind: 'unavailable' }],
    ['connection refused', api('ECONNREFUSED'), { kind: 'unavailable' }],
    ['no credentials', api('x', 'Could not load the default credentials. Browse to …'), { kind: 'denied' }],
  ])('%s', (_, err, expected) => {
    const result = classifyGcsError(err);
    expect(result).toMatchObject(expected);
    expect(JSON.stringify(result)).not.toContain('SECRETSIG');
  });
});

test('an Azure key or SAS token in a logged object is redacted', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level: 'info', region: 'b', destination });
  log.info(
    { storage: { accountkey: 'KEYSECRET', sastoken: 'sig=SASSECRET', credentials: { secret: 'CS' } } },
    'x',
  );
  expect(lines.join('')).not.toMatch(/KEYSECRET|SASSECRET|"CS"/);
});
