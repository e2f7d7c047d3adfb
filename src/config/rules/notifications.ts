/**
 * The notifications secret comes from the environment variable `authHeader.valueFromEnv` names,
 * never from the file; it must be set (and long enough) whenever notifications are enabled.
 */
import type { Env } from '../env';
import type { ConfigFile } from '../schema';
import { problem } from '../problems';
import { MIN_SECRET_LENGTH } from '../sections/notifications';
import type { Salvaged } from '../salvage';
import type { Rule } from './context';

const KEY = 'notifications.authHeader.valueFromEnv';

export const notificationsSecretSet: Rule = (ctx) => {
  const n = ctx.file.notifications;
  const variable = n?.authHeader?.valueFromEnv;
  if (!n?.enabled || !ctx.secrets || variable === undefined) return [];
  const value = ctx.env[variable];
  if (!value) {
    const header = n.authHeader?.name ?? 'authorization';
    return [
      problem(
        KEY,
        `environment variable ${variable} is not set (the value registries send in the ${header} header)`,
      ),
    ];
  }
  if (value.length < MIN_SECRET_LENGTH)
    return [problem(KEY, `the value of ${variable} must be at least ${MIN_SECRET_LENGTH} characters`)];
  return [];
};

/** The secret, once notificationsSecretSet has passed. */
export function notificationsSecret(file: Salvaged<ConfigFile>, env: Env): string | undefined {
  const variable = file.notifications?.authHeader?.valueFromEnv;
  return variable === undefined ? undefined : env[variable];
}
