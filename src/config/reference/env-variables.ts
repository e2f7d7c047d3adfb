/** The environment variables geosync reads, from the keys declared with `env` (keys.ts). */
import { annotatedJsonSchema } from '../json-schema';
import { schemaKeys } from './walk';

export interface EnvVariable {
  /** `GEOSYNC_S3_<REGION>_ACCESS_KEY_ID`: one variable per region. */
  readonly name: string;
  /** The key it sets: `['listen', 'grpc']`, `['regions', '[]', 'storage', 'accessKeyId']`. */
  readonly path: readonly string[];
  readonly description: string;
  /** For a key of one storage kind only (`s3`). */
  readonly storageType?: string;
}

let cached: readonly EnvVariable[] | undefined;

export function envVariables(): readonly EnvVariable[] {
  cached ??= schemaKeys(annotatedJsonSchema()).flatMap(({ path, schema, variant }) =>
    schema.env === undefined
      ? []
      : [
          {
            name: schema.env,
            path,
            description: schema.description ?? '',
            ...(variant !== undefined ? { storageType: variant } : {}),
          },
        ],
  );
  return cached;
}
