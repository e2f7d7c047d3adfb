/** The admin port's own paths (docs/operations.md); the notifications path must not take one. */
export const ADMIN_PATHS = {
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
  staleness: '/staleness',
} as const;
