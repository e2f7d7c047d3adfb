/**
 * How long a failed answer (storage or a sibling's registry down, slow or refusing) is reused at
 * most, by the tag freshness check and the tag-list union alike: long enough that an outage costs
 * about one round per second however many pulls arrive, short enough that answers resume soon
 * after it ends.
 */
export const FAILURE_TTL_MS = 1_000;
