/**
 * A jest transform for the HTTP layer of Google's Node clients (teeny-request and gaxios, under
 * `@google-cloud/storage`): they load node-fetch 3, an ES module, with `import()`, which jest's
 * CommonJS runtime refuses ("A dynamic import callback was invoked without
 * --experimental-vm-modules", https://jestjs.io/docs/ecmascript-modules), and jest loads no ES
 * module from CommonJS without that flag either, so node-fetch itself cannot run in the tests.
 *
 * - teeny-request takes its own node:http transport, the one it ships for Bun
 *   (https://github.com/googleapis/teeny-request/blob/main/src/index.ts, `bunFetch`): Node
 *   streams, redirects, gzip and timeouts as node-fetch gives them.
 * - gaxios (Google's auth client, only reached with credentials) takes Node's global fetch.
 *
 * So the tests run every request of the SDK and its retry and error mapping, but not node-fetch
 * (as the service does). Only the node_modules files jest.config.js names pass through here.
 */
const crypto = require('node:crypto');

const VERSION = 'jest-native-import-3';

function rewrite(source, filename) {
  if (/[\\/]teeny-request[\\/]/.test(filename)) {
    return source.replace(/'Bun' in globalThis/g, 'true');
  }
  return source.replace(/\(await import\((['"])node-fetch\1\)\)\.default/g, 'globalThis.fetch');
}

module.exports = {
  process(source, filename) {
    return { code: rewrite(source, filename) };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(`${VERSION}\0${filename}\0${source}`).digest('hex');
  },
};
