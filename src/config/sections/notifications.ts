/**
 * `notifications:`: the admin route that receives the local registry's notifications (distribution's
 * `notifications.endpoints`, https://distribution.github.io/distribution/about/notifications/).
 * The shared secret registries send comes from an environment variable (named by
 * `authHeader.valueFromEnv`), never from the file, like the S3 credentials: the file usually lives
 * in a ConfigMap, the secret in a Secret (rules/notifications.ts reads it).
 */
import { z } from 'zod';
import { ADMIN_PATHS } from '../admin-paths';
import { defaulted, documented, secret, section } from '../keys';

/** A header field name is an RFC 9110 token (https://www.rfc-editor.org/rfc/rfc9110#name-tokens). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Shorter secrets are guessable; a generated token (`openssl rand -hex 32`) is 64 characters. */
export const MIN_SECRET_LENGTH = 16;
const PATH = /^\/[A-Za-z0-9._~/-]*$/;

const path = z
  .string()
  .regex(PATH, {
    error: (iss) => `must be an absolute path of letters, digits and ._~/-, got "${String(iss.input)}"`,
  })
  .refine((v) => !(Object.values(ADMIN_PATHS) as string[]).includes(v), {
    error: (iss) => `"${String(iss.input)}" is one of the admin port's own paths`,
  });

const authHeader = section(
  {
    name: defaulted(
      z.string().regex(TOKEN, { error: (iss) => `"${String(iss.input)}" is not an HTTP header name` }),
      'Authorization',
      { description: 'the header carrying the shared secret' },
    ),
    valueFromEnv: defaulted(
      z.string().regex(ENV_NAME, {
        error: (iss) => `"${String(iss.input)}" is not an environment variable name`,
      }),
      'GEOSYNC_NOTIFICATIONS_SECRET',
      {
        description: `the environment variable holding the header's exact value (at least ${MIN_SECRET_LENGTH} characters); required when enabled, except by \`envoy-config\``,
        namesSecretVariable: true,
      },
    ),
    value: secret(
      documented(
        z
          .never({
            error: 'secrets are not read from the file: set the environment variable that valueFromEnv names',
          })
          .optional(),
        { description: 'not allowed: the secret is read only from the variable `valueFromEnv` names' },
      ),
    ),
  },
  { description: 'how the registry authenticates its notifications' },
);

export const notificationsSection = section(
  {
    enabled: defaulted(z.boolean(), false, {
      description:
        'accept the local registry\'s notifications on the admin port (docs/replication-and-staleness.md, "Staleness figures")',
    }),
    path: defaulted(path, '/notifications', {
      description: "the admin path the registry's endpoint `url` names",
    }),
    authHeader,
  },
  { description: "The local registry's notifications." },
);
