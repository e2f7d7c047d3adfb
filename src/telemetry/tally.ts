/**
 * A counter every ext_proc stream touches, kept as plain numbers and handed to OpenTelemetry only
 * when metrics are collected (an observable instrument, https://opentelemetry.io/docs/specs/otel/metrics/api/#asynchronous-counter).
 * A synchronous `Counter.add` hashes its attribute set on every call; with five or six per
 * stream that was the largest share of geosync's own per-stream CPU in a profile of benchmark
 * part 5. The exported series, names and types are the same (a Prometheus counter, or a gauge
 * for an up-down tally).
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import type { MetricSpec } from './names';

export class Tally {
  private readonly series = new Map<string, { readonly attributes: Attributes; value: number }>();

  constructor(meter: Meter, spec: MetricSpec, kind: 'counter' | 'up_down' = 'counter') {
    const options = { unit: spec.unit, description: spec.description };
    const instrument =
      kind === 'counter'
        ? meter.createObservableCounter(spec.name, options)
        : meter.createObservableUpDownCounter(spec.name, options);
    instrument.addCallback((result) => {
      for (const s of this.series.values()) result.observe(s.value, s.attributes);
    });
  }

  /**
   * Adds `value` to the series `key` names; `attributes` is called once, the first time `key` is
   * seen, so a key must determine its attributes.
   */
  add(value: number, key = '', attributes: () => Attributes = () => ({})): void {
    const s = this.series.get(key);
    if (s) s.value += value;
    else this.series.set(key, { attributes: attributes(), value });
  }
}
