/**
 * The file's JSON Schema (draft-07, what editors' YAML support reads: `# yaml-language-server:
 * $schema=…`), generated from the one declaration. `geosync config-schema` prints it and
 * deploy/config/geosync.schema.json is a copy a test keeps in sync. The schema checks each key;
 * the rules between keys (rules/) are `geosync check-config`'s only. It asks for the canonical
 * spelling: geosync also takes an empty key as unset and a quoted integer or boolean (keys.ts).
 */
import { z } from 'zod';
import { configFile } from './schema';

export type JsonSchema = { [key: string]: unknown } & {
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
  env?: string;
  defaultText?: string;
  docs?: string;
  tuning?: boolean;
  namesSecretVariable?: boolean;
};

/** With geosync's own annotations (keys.ts KeyDoc), for the reference tables and env.ts. */
export function annotatedJsonSchema(): JsonSchema {
  return z.toJSONSchema(configFile, { target: 'draft-7', io: 'input' }) as JsonSchema;
}

const OWN_KEYS = ['env', 'defaultText', 'docs', 'tuning', 'namesSecretVariable'] as const;

/** The published schema: standard keywords only, the environment variable named in the description. */
export function configJsonSchema(): JsonSchema {
  const schema = publish(annotatedJsonSchema());
  return {
    $schema: schema.$schema,
    title: 'geosync configuration',
    description: 'One YAML file per region; README.md "Configuration reference" documents every key.',
    ...schema,
  };
}

/** The text `geosync config-schema` prints and deploy/config/geosync.schema.json holds. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

function publish(node: unknown): JsonSchema {
  if (Array.isArray(node)) return node.map(publish) as unknown as JsonSchema;
  if (node === null || typeof node !== 'object') return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (!(OWN_KEYS as readonly string[]).includes(key)) out[key] = publish(value);
  }
  const own = node as JsonSchema;
  if (own.env !== undefined) out.description = `${own.description ?? ''} (environment: ${own.env})`.trim();
  return out;
}
