import type { RouteAction } from './route-config';
import type { DownstreamBody } from './router';

/**
 * The route `timeout` (from the end of the downstream request until the response is complete;
 * default 15 s, 0 = none) and the stream idle timeout (route `idle_timeout`, else the HCM's).
 */
export class RouterTimers {
  readonly expired: Promise<{ timeout: 'route' | 'idle' }>;
  private route?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  private fire: (t: { timeout: 'route' | 'idle' }) => void = () => undefined;
  private readonly idleMs: number;
  private cleared = false;

  constructor(hcmIdleMs: number, action: RouteAction, body: DownstreamBody) {
    this.idleMs = action.idleTimeoutMs ?? hcmIdleMs;
    this.expired = new Promise((resolve) => (this.fire = resolve));
    const startRoute = () => {
      if (!this.cleared && action.timeoutMs > 0)
        this.route = setTimeout(() => this.fire({ timeout: 'route' }), action.timeoutMs);
    };
    if (isComplete(body)) startRoute();
    else body.req.once('end', startRoute);
    this.touch();
  }

  /** Any activity on the stream restarts the idle timer. */
  touch(): void {
    if (this.cleared || this.idleMs <= 0) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.fire({ timeout: 'idle' }), this.idleMs);
  }

  clear(): void {
    this.cleared = true;
    if (this.route) clearTimeout(this.route);
    if (this.idle) clearTimeout(this.idle);
  }
}

/** downstream_end_stream_: the headers ended the request, or its body was fully received. */
export function isComplete(body: DownstreamBody): boolean {
  return body.headersEndStream || body.req.complete;
}
