/**
 * The notifications secret comes from the environment variable `authHeader.valueFromEnv` names,
 * never from the file; it must be set (and long enough) whenever notifications are enabled.
 */
import type { Env } from '../env';
import type { Parsed } from '../refine';
import type { ConfigFile } from '../schema';
import { MIN_SECRET_LENGTH } from '../sections/notifications';
import type { Rule } from './context';

export const notificationsSecretSet: Rule = ({ file, env, secrets }) => {
  const n = file.notifications;
  const variable = n?.authHeader?.valueFromEnv;
  if (!n?.enabled || !secrets || variable === undefined) return [];
  const value = env[variable];
  const path = ['notifications', 'authHeader', 'valueFromEnv'];
  const header = n.authHeader?.name ?? 'authorization';
  if (!value)
    return [
      {
        path,
        message: `environment variable ${variable} is not set (the value registries send in the ${header} header)`,
      },
    ];
  if (value.length < MIN_SECRET_LENGTH)
    return [{ path, message: `the value of ${variable} must be at least ${MIN_SECRET_LENGTH} characters` }];
  return [];
};

/** The secret, once notificationsSecretSet has passed. */
export function notificationsSecret(file: Parsed<ConfigFile>, env: Env): string | undefined {
  const variable = file.notifications?.authHeader?.valueFromEnv;
  return variable === undefined ? undefined : env[variable];
}
