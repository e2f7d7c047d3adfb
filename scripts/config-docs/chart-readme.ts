/**
 * The Helm chart's README (deploy/helm/geosync/README.md), generated from the chart itself as chart
 * conventions have it (helm-docs, https://github.com/norwoodj/helm-docs): Chart.yaml's metadata,
 * the comment at the head of values.yaml, and one table row per value with its type, its default
 * and its description. A value's description is the comment written above it in values.yaml; a
 * value without one takes its description from values.schema.json, which under `config` is
 * geosync's own configuration schema, so the chart's geosync keys read as docs/configuration.md
 * does.
 *
 * A small generator rather than helm-docs itself: the currency check then runs in the unit project
 * with no Go tool built first, the free prose comments values.yaml already has need no `# --`
 * markers, and the rows follow values.schema.json (a map the schema leaves free-form, such as
 * `resources`, is one row with its default, as helm-docs shows a value).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, parse, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { helmValuesSchema } from './helm-values-schema';

/** The chart, relative to the repository. */
export const CHART_DIR = 'deploy/helm/geosync';
export const CHART_README = `${CHART_DIR}/README.md`;

type Json = Record<string, unknown>;

/** One row of the values table. */
export interface ChartValue {
  readonly key: string;
  readonly type: string;
  /** The default as JSON; absent for a map whose keys have rows of their own. */
  readonly default?: string;
  readonly description: string;
}

/** What values.yaml holds: the comment at its head, and one entry per value. */
export interface ChartValues {
  readonly header: string;
  readonly values: readonly ChartValue[];
  /** Values that nothing describes: no comment, no schema description, no described map above. */
  readonly undocumented: readonly string[];
}

/**
 * The values of `valuesYaml`, in file order. A map gets rows for its keys when the schema declares
 * them (`properties`), and a row of its own only when a comment describes it (its keys may then go
 * without one); every other value is one row.
 */
export function chartValues(valuesYaml: string, schema: Json): ChartValues {
  const doc = parseDocument(valuesYaml);
  const root = doc.contents;
  if (!isMap(root)) throw new Error('values.yaml: not a mapping');
  const rows: ChartValue[] = [];
  const undocumented: string[] = [];
  let header = '';

  const walk = (
    map: YAMLMap,
    prefix: readonly string[],
    mapSchema: Json | undefined,
    inherited: string,
    describedAbove: boolean,
  ) => {
    map.items.forEach((item, i) => {
      const pair = item as Pair;
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const key = [...prefix, name];
      let comment = commentText(isScalar(pair.key) ? pair.key.commentBefore : undefined);
      // The yaml library keeps the comment above a map's first key as the map's own comment.
      if (i === 0) comment = comment || inherited;
      // The head of the file: the comment above the first key up to its first blank line.
      if (prefix.length === 0 && i === 0) [header, comment] = splitHeader(comment);
      const valueSchema = (mapSchema?.properties as Record<string, Json> | undefined)?.[name];
      const value = pair.value;
      const description = comment || String(valueSchema?.description ?? '');
      if (isMap(value) && value.items.length > 0 && valueSchema?.properties !== undefined) {
        if (comment) rows.push({ key: key.join('.'), type: 'object', description: comment });
        walk(value, key, valueSchema, commentText(value.commentBefore), describedAbove || comment !== '');
        return;
      }
      if (!description && !describedAbove) undocumented.push(key.join('.'));
      const plain: unknown =
        value === null || value === undefined ? null : (value as { toJSON(): unknown }).toJSON();
      rows.push({ key: key.join('.'), type: typeOf(plain), default: JSON.stringify(plain), description });
    });
  };
  walk(root, [], schema, '', false);
  return { header, values: rows, undocumented };
}

/** The README of the chart whose Chart.yaml and values.yaml these are. */
export function renderChartReadme(chartYaml: string, valuesYaml: string, schema: Json): string {
  const chart = parse(chartYaml) as {
    name: string;
    description?: string;
    version: string;
    appVersion?: string;
    kubeVersion?: string;
  };
  const { header, values } = chartValues(valuesYaml, schema);
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  const code = (text: string) => (text === '' ? '' : `\`${text}\``);
  const facts = [
    `Chart version ${chart.version}`,
    chart.appVersion ? `geosync ${chart.appVersion} (appVersion, the image tag by default)` : undefined,
    chart.kubeVersion ? `Kubernetes \`${chart.kubeVersion}\`` : undefined,
  ].filter((f) => f !== undefined);
  return [
    `# ${chart.name} Helm chart`,
    '',
    '<!-- Generated from Chart.yaml, values.yaml and values.schema.json by `npm run docs:config`: edit those, not this file. -->',
    '',
    chart.description ?? '',
    '',
    `${facts.join('; ')}.`,
    '',
    header,
    '',
    'How to install it, and what each install path was verified with:',
    '[deploy/kubernetes/README.md](../../kubernetes/README.md). Every geosync key under `config`:',
    '[docs/configuration.md](../../../docs/configuration.md); its `envoy:` section:',
    '[envoy/README.md](../../../envoy/README.md).',
    '',
    '## Values',
    '',
    '<!-- prettier-ignore-start -->',
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...values.map(
      (v) => `| ${code(v.key)} | ${v.type} | ${cell(code(v.default ?? ''))} | ${cell(v.description)} |`,
    ),
    '<!-- prettier-ignore-end -->',
    '',
  ].join('\n');
}

/** The chart's README as the chart in this repository says it should read. */
export function chartReadmeText(): string {
  const dir = path.join(repositoryRoot(), CHART_DIR);
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return renderChartReadme(read('Chart.yaml'), read('values.yaml'), helmValuesSchema());
}

/**
 * A YAML comment as prose (the library drops each line's `#`): lines of one paragraph joined, a
 * blank line kept between paragraphs, and a deeper-indented line (an example) kept as code.
 */
function commentText(comment: string | null | undefined): string {
  if (!comment) return '';
  const out: string[] = [];
  let joinable = false;
  for (const raw of comment.split('\n')) {
    const line = raw.replace(/^ /, '');
    const example = /^\s/.test(line);
    if (joinable && line !== '' && !example) out[out.length - 1] += ` ${line}`;
    else out.push(example ? `\`${line.trim()}\`` : line);
    joinable = line !== '' && !example;
  }
  return out.join('\n').trim();
}

/** The comment above the file's first key: the file's head, then (after a blank line) the key's own. */
function splitHeader(comment: string): [string, string] {
  const blank = comment.indexOf('\n\n');
  return blank < 0 ? ['', comment] : [comment.slice(0, blank).trim(), comment.slice(blank + 2).trim()];
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : 'string';
}

/** The checkout: the folder above this file (scripts/ or build/scripts/) that holds the chart. */
function repositoryRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, CHART_DIR, 'Chart.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ${CHART_DIR}/Chart.yaml above ${__dirname}`);
  }
}
