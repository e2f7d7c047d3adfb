/** `staleness:`: the published staleness figures (src/staleness/): how far back, and how much memory. */
import { defaulted, integer, section } from '../keys';

export const stalenessSection = section(
  {
    windowMs: defaulted(integer(60_000, 7 * 86_400_000), 3_600_000),
    maxSamples: defaulted(integer(100, 1_000_000), 10_000),
  },
  {
    windowMs: 'the report covers this long until now (1 min – 7 days)',
    maxSamples:
      'samples kept per region pair and series, and manifests remembered per kind; the oldest go first',
  },
);
