import net from 'node:net';
import type { S3Storage } from '../../../src/config/types';
import { S3Probe } from '../../../src/storage/s3-probe';

/** A loopback port with nothing listening. */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('S3Probe', () => {
  it('works with a frozen configuration (the SDK annotates the credentials it is given)', async () => {
    const storage: S3Storage = Object.freeze({
      type: 's3',
      bucket: 'b',
      endpoint: `http://127.0.0.1:${await refusedPort()}`,
      region: 'us-east-1',
      forcePathStyle: true,
      rootDirectory: '',
      credentials: Object.freeze({ accessKeyId: 'k', secretAccessKey: 's' }),
      requestTimeoutMs: 1000,
    });
    const probe = new S3Probe('a', storage);
    expect(await probe.head('k', { signal: new AbortController().signal })).toMatchObject({
      status: 'error',
      kind: 'unavailable',
    });
    await probe.close();
  });
});
