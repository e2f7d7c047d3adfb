/**
 * The `notifications:` and `staleness:` sections. The shared secret registries send comes from an
 * environment variable (named by `authHeader.valueFromEnv`), never from the file, like the S3
 * credentials (env.ts): the file usually lives in a ConfigMap, the secret in a Secret.
 */
import { ADMIN_PATHS } from '../admin/paths';
import { DEFAULTS } from './defaults';
import type { Env } from './env';
import { Reader, type Obj } from './reader';
import type { NotificationsConfig, StalenessConfig } from './schema';

/** A header field name is an RFC 9110 token (https://www.rfc-editor.org/rfc/rfc9110#name-tokens). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH = /^\/[A-Za-z0-9._~/-]*$/;
/** Shorter secrets are guessable; a generated token (`openssl rand -hex 32`) is 64 characters. */
export const MIN_SECRET_LENGTH = 16;

export function readNotifications(r: Reader, root: Obj, env: Env, needSecret: boolean): NotificationsConfig {
  const d = DEFAULTS.notifications;
  const obj = r.object(root.notifications, 'notifications') ?? {};
  r.noUnknownKeys(obj, 'notifications', ['enabled', 'path', 'authHeader']);
  const enabled = r.boolean(obj, 'enabled', 'notifications', { default: d.enabled });
  const path = r.string(obj, 'path', 'notifications', { default: d.path }) ?? d.path;
  if (!PATH.test(path)) {
    r.problem('notifications.path', `must be an absolute path of letters, digits and ._~/-, got "${path}"`);
  } else if ((Object.values(ADMIN_PATHS) as string[]).includes(path)) {
    r.problem('notifications.path', `"${path}" is one of the admin port's own paths`);
  }
  const headerObj = r.object(obj.authHeader, 'notifications.authHeader') ?? {};
  if ('value' in headerObj) {
    r.problem(
      'notifications.authHeader.value',
      'secrets are not read from the file: set the environment variable that valueFromEnv names',
    );
  }
  r.noUnknownKeys(headerObj, 'notifications.authHeader', ['name', 'valueFromEnv', 'value']);
  const name =
    r.string(headerObj, 'name', 'notifications.authHeader', { default: d.authHeader.name }) ??
    d.authHeader.name;
  if (!TOKEN.test(name)) r.problem('notifications.authHeader.name', `"${name}" is not an HTTP header name`);
  const variable =
    r.string(headerObj, 'valueFromEnv', 'notifications.authHeader', {
      default: d.authHeader.valueFromEnv,
    }) ?? d.authHeader.valueFromEnv;
  let value: string | undefined;
  if (!ENV_NAME.test(variable)) {
    r.problem('notifications.authHeader.valueFromEnv', `"${variable}" is not an environment variable name`);
  } else if (enabled && needSecret) {
    value = env[variable];
    if (!value) {
      r.problem(
        'notifications.authHeader.valueFromEnv',
        `environment variable ${variable} is not set (the value registries send in the ${name} header)`,
      );
    } else if (value.length < MIN_SECRET_LENGTH) {
      r.problem(
        'notifications.authHeader.valueFromEnv',
        `the value of ${variable} must be at least ${MIN_SECRET_LENGTH} characters`,
      );
      value = undefined;
    }
  }
  return {
    enabled,
    path,
    authHeaderName: name.toLowerCase(),
    ...(value !== undefined ? { authHeaderValue: value } : {}),
  };
}

export function readStaleness(r: Reader, root: Obj): StalenessConfig {
  const d = DEFAULTS.staleness;
  const obj = r.object(root.staleness, 'staleness') ?? {};
  r.noUnknownKeys(obj, 'staleness', ['windowMs', 'maxSamples']);
  return {
    windowMs: r.integer(obj, 'windowMs', 'staleness', {
      default: d.windowMs,
      min: 60_000,
      max: 7 * 86_400_000,
    }),
    maxSamples: r.integer(obj, 'maxSamples', 'staleness', {
      default: d.maxSamples,
      min: 100,
      max: 1_000_000,
    }),
  };
}
