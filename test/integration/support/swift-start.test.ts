/**
 * startSwift when a port it was given is taken before its server binds it (another process won the
 * race for it): the server gives up after Swift's short `bind_timeout` and exits, and the start is
 * tried again on other ports instead of waiting out its whole deadline and failing the suite that
 * needed Swift. Here the proxy's port is held by a listener that answers nothing.
 */
import net from 'node:net';
import { freePort, freePorts } from '../../support/net/ports';
import { startSwift } from '../../support/storage/swift';

jest.mock('../../support/net/ports', () => {
  const actual = jest.requireActual<typeof import('../../support/net/ports')>('../../support/net/ports');
  return { ...actual, freePorts: jest.fn(actual.freePorts) };
});

jest.setTimeout(90_000);

test('a Swift server whose port is taken exits, and Swift starts again on fresh ports', async () => {
  const port = await freePort();
  const taker = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => taker.listen({ host: '127.0.0.1', port }, resolve));
  const real =
    jest.requireActual<typeof import('../../support/net/ports')>('../../support/net/ports').freePorts;
  // The order startSwift asks for: proxy, memcached, object, container, account.
  jest.mocked(freePorts).mockImplementationOnce(async (n) => {
    const ports = await real(n);
    ports[0] = port;
    return ports;
  });
  try {
    const swift = await startSwift();
    try {
      expect(jest.mocked(freePorts)).toHaveBeenCalledTimes(2);
      expect(swift.port).not.toBe(port);
      await swift.createBucket('after-a-taken-port');
    } finally {
      await swift.stop();
    }
  } finally {
    await new Promise((resolve) => taker.close(resolve));
  }
});
