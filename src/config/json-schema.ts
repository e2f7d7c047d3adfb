/**
 * The file's JSON Schema (draft-07, what editors' YAML support reads: `# yaml-language-server:
 * $schema=…`), generated from the one declaration. `geosync config-schema` prints it and
 * deploy/config/geosync.schema.json is a copy a test keeps in sync. The schema checks each key;
 * the rules between keys (rules/) are `geosync check-config`'s only. It asks for the canonical
 * spelling: geosync also takes an empty key as unset and a quoted integer or boolean (keys.ts).
 * It holds zod's global registry's metadata only; what the docs/configuration.md tables need besides is in
 * keys.ts `keyDocs`.
 */
import { z } from 'zod';
import { ENV_VARIABLES } from './env';
import { configFile } from './schema';

export type JsonSchema = { [key: string]: unknown } & {
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
};

/** The published schema: each key's description (naming its environment variable) and default. */
export function configJsonSchema(): JsonSchema {
  const variables = new Map(ENV_VARIABLES.map((v) => [declaredKey(v.path, v.storageType), v.name]));
  const schema = z.toJSONSchema(configFile, {
    target: 'draft-7',
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const name = variables.get(zodSchema);
      if (name) jsonSchema.description = `${jsonSchema.description ?? ''} (environment: ${name})`.trim();
    },
  }) as JsonSchema;
  return {
    $schema: schema.$schema,
    title: 'geosync configuration',
    description: 'One YAML file per region; docs/configuration.md documents every key.',
    ...schema,
  };
}

/** The text `geosync config-schema` prints and deploy/config/geosync.schema.json holds. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

type Def = z.core.$ZodTypeDef & Record<string, unknown>;

/** The declaration of the key at `path` (env.ts: `[]` for a list's items), as its parent holds it. */
export function declaredKey(path: readonly string[], storageType?: string): z.core.$ZodType {
  let node: z.core.$ZodType = configFile;
  for (const key of path) {
    const def = unwrap(node, storageType)._zod.def as Def;
    const next =
      key === '[]' ? def.element : (def.shape as Record<string, z.core.$ZodType> | undefined)?.[key];
    if (!next) throw new Error(`no key ${path.join('.')} in the configuration's schema`);
    node = next as z.core.$ZodType;
  }
  return node;
}

/** The list or mapping inside wrappers; of a storage union, the member of `storageType`. */
function unwrap(schema: z.core.$ZodType, storageType?: string): z.core.$ZodType {
  const def = schema._zod.def as Def;
  if (def.type === 'pipe') return unwrap(def.out as z.core.$ZodType, storageType);
  if (def.type === 'optional' || def.type === 'prefault' || def.type === 'default') {
    return unwrap(def.innerType as z.core.$ZodType, storageType);
  }
  if (def.type === 'union') {
    const member = (def.options as z.core.$ZodType[]).find((o) => {
      const tag = ((o._zod.def as Def).shape as Record<string, z.core.$ZodType>).type;
      return tag !== undefined && z.safeParse(tag, storageType).success;
    });
    if (member) return member;
  }
  return schema;
}
