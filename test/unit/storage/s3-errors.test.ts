import { classifyS3Error } from '../../../src/storage/s3-errors';
import { objectKey } from '../../../src/storage/keys';

const http = (status: number, name = 'Unknown') =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const net = (code: string) => Object.assign(new Error(code), { code });

describe('classifyS3Error', () => {
  it.each([
    ['HEAD 404', http(404, 'NotFound'), { status: 'not_found' }],
    ['NoSuchKey', http(404, 'NoSuchKey'), { status: 'not_found' }],
    ['403', http(403, 'Forbidden'), { status: 'error', kind: 'denied' }],
    ['429', http(429), { status: 'error', kind: 'throttled' }],
    ['503 SlowDown', http(503, 'SlowDown'), { status: 'error', kind: 'throttled' }],
    ['500', http(500, 'InternalError'), { status: 'error', kind: 'unavailable' }],
    ['502', http(502), { status: 'error', kind: 'unavailable' }],
    ['connection refused', net('ECONNREFUSED'), { status: 'error', kind: 'unavailable' }],
    ['connection reset', net('ECONNRESET'), { status: 'error', kind: 'unavailable' }],
    [
      'SDK request timeout',
      Object.assign(new Error('t'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
      { status: 'error', kind: 'timeout' },
    ],
    ['abort', Object.assign(new Error('a'), { name: 'AbortError' }), { status: 'error', kind: 'aborted' }],
    ['anything else', new Error('weird'), { status: 'error', kind: 'internal' }],
    ['not even an Error', 'boom', { status: 'error', kind: 'internal' }],
  ])('%s', (_name, err, expected) => {
    expect(classifyS3Error(err)).toMatchObject(expected);
  });
});

describe('objectKey', () => {
  it.each([
    ['', 'docker/registry/v2/k'],
    ['/', 'docker/registry/v2/k'],
    ['registry', 'registry/docker/registry/v2/k'],
    ['/a/b/', 'a/b/docker/registry/v2/k'],
  ])('rootDirectory %j', (root, expected) => {
    expect(objectKey(root, 'k')).toBe(expected);
  });
});

describe('classifyS3Error with the SDK’s error wrapper', () => {
  it('finds the network code in the message', () => {
    const wrapped = Object.assign(
      new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:1'),
      {
        $metadata: { attempts: 1 },
      },
    );
    expect(classifyS3Error(wrapped)).toMatchObject({ status: 'error', kind: 'unavailable' });
  });
});
