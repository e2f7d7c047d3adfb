/**
 * Envoy local replies (http/utility.cc sendLocalReply): a text/plain body (or none), a
 * content-length, `server: envoy`; HEAD gets the headers only (node omits the body itself).
 */
import type { ServerResponse } from 'node:http';
import type { HeaderMutation__Output } from '../../src/generated/envoy/service/ext_proc/v3/HeaderMutation';

export function sendLocalReply(
  res: ServerResponse,
  status: number,
  body: string,
  extraHeaders: Record<string, string> = {},
  mutation?: HeaderMutation__Output | null,
  rawValue = true,
): void {
  if (res.headersSent) {
    res.destroy(); // response already started: the stream is reset
    return;
  }
  const headers: Record<string, string> = { server: 'envoy', ...extraHeaders };
  if (body !== '') headers['content-type'] = 'text/plain';
  headers['content-length'] = String(Buffer.byteLength(body));
  // ImmediateResponse.headers: ext_proc applies them to the local reply (§2.4).
  for (const sh of mutation?.set_headers ?? []) {
    if (!sh.header || sh.header.key.startsWith(':')) continue;
    const value = rawValue ? Buffer.from(sh.header.raw_value ?? '').toString('latin1') : sh.header.value;
    headers[sh.header.key.toLowerCase()] = value;
  }
  res.writeHead(status, headers);
  res.end(body);
}
