/** One reply of the admin server: never cached, and written once (a second reply is dropped). */
import type http from 'node:http';

export interface ReplyOptions {
  /** `application/json` instead of plain text. */
  readonly json?: boolean;
  /** Headers beyond content-type and cache-control (e.g. `allow`, `connection: close`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function reply(res: http.ServerResponse, status: number, body: string, opts: ReplyOptions = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': opts.json ? 'application/json' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...opts.headers,
  });
  res.end(body);
}
