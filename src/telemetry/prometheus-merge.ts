/**
 * One Prometheus exposition from several processes' (the workers of `geosync serve`, and the
 * supervisor's own): each family once, its HELP and TYPE once, then every process's samples with
 * a label that says which process they came from. The text format wants a family's samples
 * together and its metadata once
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details), so the
 * texts cannot simply be concatenated. Sums across workers are the scraper's (PromQL `sum by`).
 */

export interface Exposition {
  readonly text: string;
  /** Added to every sample of this text (name → value; values are escaped here). */
  readonly labels?: Readonly<Record<string, string>>;
}

interface Family {
  help?: string;
  type?: string;
  readonly samples: string[];
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** `name{a="1"} 3` + {w: "0"} → `name{a="1",w="0"} 3`; `name 3` → `name{w="0"} 3`. */
function withLabels(sample: string, labels: string): string {
  if (labels === '') return sample;
  const brace = sample.indexOf('{');
  const space = sample.indexOf(' ');
  if (brace >= 0 && (space < 0 || brace < space)) {
    const close = sample.lastIndexOf('}');
    const inner = sample.slice(brace + 1, close);
    return `${sample.slice(0, brace + 1)}${inner === '' ? labels : `${inner},${labels}`}${sample.slice(close)}`;
  }
  return space < 0 ? sample : `${sample.slice(0, space)}{${labels}}${sample.slice(space)}`;
}

export function mergeExpositions(parts: readonly Exposition[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const part of parts) {
    const labels = Object.entries(part.labels ?? {})
      .map(([k, v]) => `${k}="${escape(v)}"`)
      .join(',');
    let current: string | undefined;
    for (const line of part.text.split('\n')) {
      if (line.trim() === '') continue;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta) {
        const [, kind, name, rest] = meta as unknown as [string, string, string, string];
        current = name;
        const f = family(name);
        if (kind === 'HELP') f.help ??= rest;
        else f.type ??= rest;
        continue;
      }
      if (line.startsWith('#')) continue;
      // A sample belongs to the family declared above it (a histogram's _bucket, _sum and
      // _count included); one with no declaration above is its own family.
      const name = /^[^{\s]+/.exec(line)?.[0] ?? line;
      const owner = current !== undefined && name.startsWith(current) ? current : name;
      family(owner).samples.push(withLabels(line, labels));
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
    if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
    out.push(...f.samples);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
