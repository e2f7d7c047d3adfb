/**
 * The header secret registries send. Compared in constant time over fixed-length digests, so
 * neither the secret's bytes nor its length leak through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export class SharedSecret {
  private readonly expected: Buffer;

  constructor(
    /** Lower-case header name. */
    readonly headerName: string,
    value: string,
  ) {
    this.expected = digest(value);
  }

  matches(headers: http.IncomingHttpHeaders): boolean {
    const sent = headers[this.headerName];
    // Node joins repeated custom headers with ', ' and keeps one Authorization: an array is no match.
    if (typeof sent !== 'string') return false;
    return timingSafeEqual(digest(sent), this.expected);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
