/**
 * `notifications:`: the admin route that receives the local registry's notifications
 * (https://distribution.github.io/distribution/about/notifications/). The shared secret comes from
 * the environment variable `authHeader.valueFromEnv` names, never from the file: the file usually
 * lives in a ConfigMap, the secret in a Secret.
 */
import { z } from 'zod';
import { ADMIN_PATHS } from '../admin-paths';
import { defaulted, documented, matching, secret, section } from '../keys';

/** Shorter secrets are guessable; a generated token (`openssl rand -hex 32`) is 64 characters. */
export const MIN_SECRET_LENGTH = 16;

const path = matching(/^\/[A-Za-z0-9._~/-]*$/, 'an absolute path of letters, digits and ._~/-').refine(
  (v) => !(Object.values(ADMIN_PATHS) as string[]).includes(v),
  {
    error: (iss) => `"${String(iss.input)}" is one of the admin port's own paths`,
  },
);
/** A header field name is an RFC 9110 token (https://www.rfc-editor.org/rfc/rfc9110#name-tokens). */
const header = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: (iss) => `"${String(iss.input)}" is not an HTTP header name`,
});
const variable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: (iss) => `"${String(iss.input)}" is not an environment variable name`,
});
const never = z.never({
  error: 'secrets are not read from the file: set the environment variable that valueFromEnv names',
});

export const notificationsSection = section(
  {
    enabled: defaulted(z.boolean(), false),
    path: defaulted(path, '/notifications'),
    authHeader: section(
      {
        name: defaulted(header, 'Authorization'),
        valueFromEnv: documented(defaulted(variable, 'GEOSYNC_NOTIFICATIONS_SECRET'), {
          namesSecretVariable: true,
        }),
        value: secret(never.optional()),
      },
      {
        name: 'the header carrying the shared secret',
        valueFromEnv: `the environment variable holding the header's exact value (at least ${MIN_SECRET_LENGTH} characters); required when enabled, except by \`envoy-config\``,
        value: 'not allowed: the secret is read only from the variable `valueFromEnv` names',
      },
    ),
  },
  {
    enabled:
      'accept the local registry\'s notifications on the admin port (docs/replication-and-staleness.md, "Staleness figures")',
    path: "the admin path the registry's endpoint `url` names",
    authHeader: 'how the registry authenticates its notifications',
  },
);
