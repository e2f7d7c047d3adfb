/** Defaults of every optional key, in one place (README.md documents the same values). */
export const DEFAULTS = {
  listen: { grpc: '127.0.0.1:9002', admin: '127.0.0.1:9003' },
  /** Envoy's ext_proc `message_timeout` defaults to 200 ms; the lookup must finish well before it. */
  lookupTimeoutMs: 150,
  drainMs: 5000,
  s3: { region: 'us-east-1', forcePathStyle: false, rootDirectory: '/', requestTimeoutMs: 1000 },
  locate: {
    hedgeMs: 10,
    probeBlobData: true,
    maxConcurrentProbesPerRegion: 256,
    keepWarmIntervalMs: 15_000,
    cache: {
      maxEntries: 100_000,
      maxBytes: 32 * 1024 * 1024,
      digestTtlMs: 10 * 60_000,
      tagTtlMs: 5_000,
      negativeTtlMs: 2_000,
    },
    breaker: { failureThreshold: 5, coolDownMs: 10_000 },
    healthCheck: { enabled: false, intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 2 },
  },
  telemetry: { serviceName: 'geosync', logLevel: 'info', traceRepositoryNames: false },
  notifications: {
    enabled: false,
    path: '/notifications',
    authHeader: { name: 'Authorization', valueFromEnv: 'GEOSYNC_NOTIFICATIONS_SECRET' },
  },
  staleness: { windowMs: 3_600_000, maxSamples: 10_000 },
} as const;

/** Upper bounds that keep a typo (an extra zero) from turning into an outage. */
export const LIMITS = {
  lookupTimeoutMs: 10_000,
  negativeTtlMs: 10_000,
} as const;
