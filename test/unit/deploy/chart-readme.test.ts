/**
 * The Helm chart's README is generated from its values (scripts/config-docs/chart-readme.ts), as
 * chart conventions have it; test/unit/config/reference.test.ts fails when the committed README is
 * out of date. Here: every value the chart has is described, and the generator reads values.yaml's
 * comments as a reader of the file would.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_DIR, chartValues, renderChartReadme } from '../../../scripts/config-docs/chart-readme';
import { GENERATED_FILES } from '../../../scripts/config-docs/generated';
import { helmValuesSchema } from '../../../scripts/config-docs/helm-values-schema';

const ROOT = path.resolve(__dirname, '../../..');
const values = readFileSync(path.join(ROOT, CHART_DIR, 'values.yaml'), 'utf8');

test('every value of the chart is described: by its comment, its schema, or a described map above it', () => {
  expect(chartValues(values, helmValuesSchema()).undocumented).toEqual([]);
});

test('npm run docs:config writes the chart README, and the currency check covers it', () => {
  expect(Object.keys(GENERATED_FILES)).toContain(`${CHART_DIR}/README.md`);
});

const SCHEMA = {
  properties: {
    image: { properties: { repository: {}, tag: {} } },
    resources: { type: 'object' },
    config: { properties: { region: { description: 'from the schema' } } },
    bare: {},
  },
};
const FIXTURE = `# The chart's head.

# Its mode.
mode: a|b
# The image.
image:
  repository: x
  tag: ''
resources:
  # Not a row of its own: the schema leaves resources free-form.
  requests: { cpu: 1 }
config:
  # Above the first key of a nested map.
  region: b
bare: 1
`;

test('values.yaml comments become the rows the chart README lists', () => {
  const { header, values: rows, undocumented } = chartValues(FIXTURE, SCHEMA);
  expect(header).toBe("The chart's head.");
  expect(rows).toEqual([
    { key: 'mode', type: 'string', default: '"a|b"', description: 'Its mode.' },
    { key: 'image', type: 'object', description: 'The image.' },
    { key: 'image.repository', type: 'string', default: '"x"', description: '' },
    { key: 'image.tag', type: 'string', default: '""', description: '' },
    { key: 'resources', type: 'object', default: '{"requests":{"cpu":1}}', description: '' },
    {
      key: 'config.region',
      type: 'string',
      default: '"b"',
      description: 'Above the first key of a nested map.',
    },
    { key: 'bare', type: 'int', default: '1', description: '' },
  ]);
  expect(undocumented).toEqual(['resources', 'bare']);
});

test("a value's schema description stands in for a missing comment; a table cell keeps its pipes", () => {
  const readme = renderChartReadme('name: c\nversion: 1.0.0\n', 'config:\n  region: b\nmode: a|b\n', SCHEMA);
  expect(readme).toContain('| `config.region` | string | `"b"` | from the schema |');
  expect(readme).toContain('| `mode` | string | `"a\\|b"` |  |');
});
