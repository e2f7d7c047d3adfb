/**
 * What the repository holds that is generated from the configuration's one declaration and the
 * Helm chart: parts of docs/configuration.md and envoy/README.md (between
 * `<!-- generated:NAME … -->` and `<!-- end:NAME -->`), the published JSON Schema, the chart's
 * values schema, which embeds it, and the chart's README. `npm run docs:config` rewrites them;
 * test/unit/config/reference.test.ts fails when one is out of date.
 */
import { configJsonSchemaText } from '../../src/config/json-schema';
import { CHART_README, chartReadmeText } from './chart-readme';
import { helmValuesSchemaText } from './helm-values-schema';
import { CONFIG_PAGE, clusterTuningTable, configTable, envoyTable, envTable } from './tables';

/** Generated parts of hand-written files, by file (relative to the repository) and marker name. */
export const GENERATED_SECTIONS: Readonly<Record<string, Readonly<Record<string, () => string>>>> = {
  [CONFIG_PAGE]: { 'config-reference': configTable, 'environment-variables': envTable },
  'envoy/README.md': { 'envoy-tunables': envoyTable, 'cluster-tuning': clusterTuningTable },
};

/** The published JSON Schema; configuration files name it in their first line (a modeline). */
export const SCHEMA_FILE = 'deploy/config/geosync.schema.json';

/** Wholly generated files. */
export const GENERATED_FILES: Readonly<Record<string, () => string>> = {
  [SCHEMA_FILE]: configJsonSchemaText,
  'deploy/helm/geosync/values.schema.json': helmValuesSchemaText,
  [CHART_README]: chartReadmeText,
};

/** `text` (the content of `file`) with its generated sections as the declaration says now. */
export function regenerate(file: string, text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(GENERATED_SECTIONS[file] ?? {})) {
    const start = `<!-- generated:${name} (npm run docs:config) -->`;
    const end = `<!-- end:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${file}: no "${start}" … "${end}" section`);
    out = `${out.slice(0, from + start.length)}\n${render()}\n${out.slice(to)}`;
  }
  return out;
}
