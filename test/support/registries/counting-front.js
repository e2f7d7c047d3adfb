/**
 * A front that passes every request to a registry and counts them, as its own process (the herd
 * tests' event loop already carries the delaying links between regions): `node counting-front.js
 * <target port>` listens on a loopback port it prints as `port <n>`; `GET /__front/requests`
 * answers the requests so far (`[lookup ]METHOD /path?query`, `lookup` for geosync's, told apart
 * by its `geosync/` user agent), `POST /__front/clear` forgets them. Used by crane-registry.ts.
 */
'use strict';
const http = require('node:http');

const target = Number(process.argv[2]);
const requests = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  if (req.url === '/__front/requests') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(requests));
  }
  if (req.url === '/__front/clear' && req.method === 'POST') {
    requests.length = 0;
    res.writeHead(204);
    return res.end();
  }
  const who = String(req.headers['user-agent'] || '').startsWith('geosync/') ? 'lookup ' : '';
  requests.push(`${who}${req.method} ${req.url}`);
  const upstream = http.request(
    { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode || 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
