/** The API shape shared by the simulator and the real-Envoy launcher. */
export interface ListenerInfo {
  name: string;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
}

export interface EnvoyHandle {
  readonly kind: 'simulator' | 'real';
  readonly listeners: ListenerInfo[];
  /** Admin base URL when the bootstrap has an admin section. */
  readonly adminUrl?: string;
  /** All counters, by full Envoy name. */
  readStats(): Promise<Record<string, number>>;
  /** Sum of the counters named `name` or ending in `.name` (e.g. 'upstream_internal_redirect_succeeded_total'). */
  counter(name: string): Promise<number>;
  close(): Promise<void>;
}

/** The listener URL by name (throws with the known names when absent). */
export function listenerUrl(handle: Pick<EnvoyHandle, 'listeners'>, name?: string): string {
  const l = name === undefined ? handle.listeners[0] : handle.listeners.find((x) => x.name === name);
  if (!l) throw new Error(`no listener '${name}' (have: ${handle.listeners.map((x) => x.name).join(', ')})`);
  return l.url;
}

export function sumCounters(all: Record<string, number>, name: string): number {
  let total = 0;
  for (const [k, v] of Object.entries(all)) if (k === name || k.endsWith(`.${name}`)) total += v;
  return total;
}
