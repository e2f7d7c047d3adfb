/**
 * Every key of the JSON Schema with its path: what the reference tables are read from. Paths use
 * `[]` for a list's items and `<name>` for a mapping's keys.
 */
import { docSchema, type DocSchema } from '../../src/config/json-schema';

export type { DocSchema };

/** The JSON Schema with every key's whole KeyDoc (keys.ts `keyDocs`), for the tables. */
export const annotatedJsonSchema = (): DocSchema => docSchema();

export interface SchemaKey {
  readonly path: readonly string[];
  readonly schema: DocSchema;
  readonly required: boolean;
  /** The discriminator value of the union member the key belongs to (`s3`, `filesystem`). */
  readonly variant?: string;
}

/** Depth first, in declaration order; `descend` says whether to list a key's own keys too. */
export function schemaKeys(root: DocSchema, descend: (key: SchemaKey) => boolean = () => true): SchemaKey[] {
  const out: SchemaKey[] = [];
  const visit = (schema: DocSchema, path: readonly string[], variant?: string): void => {
    if (schema.items) return visit(schema.items, [...path, '[]'], variant);
    if (schema.oneOf) {
      // A discriminated union (regions[].storage): its `type` once, then each member's keys.
      const members = schema.oneOf.map((m) => ({ m, tag: m.properties?.type }));
      out.push({
        path: [...path, 'type'],
        schema: {
          type: 'string',
          enum: members.map(({ tag }) => tag?.const),
          description: members
            .map(({ tag }) => `\`${String(tag?.const)}\`: ${tag?.description ?? ''}`)
            .join('; '),
        },
        required: true,
      });
      for (const { m, tag } of members) visit(m, path, typeof tag?.const === 'string' ? tag.const : variant);
      return;
    }
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const key: SchemaKey = {
        path: [...path, name],
        schema: child,
        required: schema.required?.includes(name) ?? false,
        ...(variant !== undefined ? { variant } : {}),
      };
      if (variant !== undefined && name === 'type') continue; // listed once, above
      out.push(key);
      if (descend(key)) visit(child, key.path, variant);
    }
    if (typeof schema.additionalProperties === 'object' && schema.additionalProperties.properties) {
      visit(schema.additionalProperties, [...path, '<name>'], variant);
    }
  };
  visit(root, []);
  return out;
}
