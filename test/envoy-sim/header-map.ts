/**
 * An ordered, multi-valued header map with lower-case names, like Envoy's HeaderMapImpl.
 * Pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`, `:status`) live in the same map,
 * as they do in Envoy, so ext_proc sees them and mutation rules can address them.
 */
export class HeaderMap {
  private entries: Array<[string, string]> = [];

  constructor(init?: Iterable<[string, string]>) {
    for (const [k, v] of init ?? []) this.add(k, v);
  }

  /** First value, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.entries.find(([k]) => k === key)?.[1];
  }

  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.entries.filter(([k]) => k === key).map(([, v]) => v);
  }

  /** Envoy joins repeated values with ',' when a matcher reads one header (HeaderUtility::getAllOfHeaderAsString). */
  getJoined(name: string): string | undefined {
    const all = this.getAll(name);
    return all.length === 0 ? undefined : all.join(',');
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** setCopy: replaces every value of the header with one value. */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    const at = this.entries.findIndex(([k]) => k === key);
    if (at < 0) {
      this.add(key, value);
      return;
    }
    this.entries[at] = [key, value];
    this.entries = this.entries.filter(([k], i) => k !== key || i === at);
  }

  /** addCopy: appends one more value. Pseudo-headers are kept in front, as Envoy does. */
  add(name: string, value: string): void {
    const key = name.toLowerCase();
    if (key.startsWith(':')) {
      const firstRegular = this.entries.findIndex(([k]) => !k.startsWith(':'));
      this.entries.splice(firstRegular < 0 ? this.entries.length : firstRegular, 0, [key, value]);
    } else {
      this.entries.push([key, value]);
    }
  }

  remove(name: string): void {
    const key = name.toLowerCase();
    this.entries = this.entries.filter(([k]) => k !== key);
  }

  clone(): HeaderMap {
    return new HeaderMap(this.entries);
  }

  /** Replaces this map's content with another's (Envoy's `clear()` + `copyFrom`). */
  replaceWith(other: HeaderMap): void {
    this.entries = other.toArray();
  }

  toArray(): Array<[string, string]> {
    return this.entries.map(([k, v]) => [k, v]);
  }

  /** Entries without pseudo-headers. */
  regular(): Array<[string, string]> {
    return this.entries.filter(([k]) => !k.startsWith(':'));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Approximate byte size as Envoy counts it (key + value lengths). */
  byteSize(): number {
    return this.entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
  }
}
