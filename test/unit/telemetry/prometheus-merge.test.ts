import { mergeExpositions } from '../../../src/telemetry/prometheus-merge';
import { sum } from '../../support/prometheus';

const worker = (decisions: number, bucket: number) => `# HELP geosync_decisions_total Decisions
# TYPE geosync_decisions_total counter
geosync_decisions_total{geosync_outcome="proxied"} ${decisions}
# HELP geosync_lookup_duration_seconds Lookups
# TYPE geosync_lookup_duration_seconds histogram
geosync_lookup_duration_seconds_bucket{le="0.1"} ${bucket}
geosync_lookup_duration_seconds_sum 0.5
geosync_lookup_duration_seconds_count ${bucket}
`;

describe('mergeExpositions', () => {
  const merged = mergeExpositions([
    {
      text: '# HELP geosync_worker_restarts_total Restarts\n# TYPE geosync_worker_restarts_total counter\ngeosync_worker_restarts_total 1\n',
    },
    { text: worker(3, 2), labels: { geosync_worker: '0' } },
    { text: worker(4, 5), labels: { geosync_worker: '1' } },
  ]);

  test('each family once, with every process its samples and a label that says which', () => {
    expect(merged.match(/^# TYPE geosync_decisions_total counter$/gm)).toHaveLength(1);
    expect(merged.match(/^# HELP geosync_lookup_duration_seconds /gm)).toHaveLength(1);
    expect(merged).toContain('geosync_decisions_total{geosync_outcome="proxied",geosync_worker="0"} 3');
    expect(merged).toContain('geosync_decisions_total{geosync_outcome="proxied",geosync_worker="1"} 4');
    expect(merged).toContain('geosync_lookup_duration_seconds_sum{geosync_worker="1"} 0.5');
    expect(merged).toContain('geosync_worker_restarts_total 1');
    expect(sum(merged, 'geosync_decisions_total')).toBe(7);
    expect(sum(merged, 'geosync_lookup_duration_seconds_count')).toBe(7);
  });

  test("a family's samples stay together, after its metadata", () => {
    const lines = merged.trim().split('\n');
    const type = lines.indexOf('# TYPE geosync_lookup_duration_seconds histogram');
    const samples = lines.flatMap((l, i) => (l.startsWith('geosync_lookup_duration_seconds') ? [i] : []));
    expect(samples).toHaveLength(6);
    expect(Math.min(...samples)).toBe(type + 1);
    expect(Math.max(...samples)).toBe(type + 6);
  });

  test('label values are escaped; empty input gives empty output', () => {
    expect(mergeExpositions([{ text: 'x 1\n', labels: { w: 'a"b\\c' } }])).toBe('x{w="a\\"b\\\\c"} 1\n');
    expect(mergeExpositions([{ text: '' }])).toBe('');
  });
});
