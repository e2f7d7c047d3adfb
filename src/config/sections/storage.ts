/**
 * `regions[].storage`: where a region's registry (CNCF distribution) keeps its content, so that
 * geosync can look for a blob or manifest there without asking that region's registry.
 */
import { z } from 'zod';
import { absolutePath, defaulted, documented, integer, optional, required } from '../keys';

/** distribution's `rootdirectory` without leading or trailing slashes ('' for the bucket root). */
const rootDirectory = z.string().transform((v) => v.split('/').filter(Boolean).join('/'));

const s3 = z.strictObject({
  // The union's discriminator: a bare literal (no preprocess), as discriminatedUnion requires.
  type: documented(z.literal('s3'), { description: 'S3 (or an S3-compatible server)' }),
  bucket: required(z.string(), { description: 'the bucket distribution writes to' }),
  endpoint: optional(
    z
      .string()
      .regex(/^https?:\/\/[^/]+\/?$/, {
        error: (iss) => `must be an http(s) URL with no path, got "${String(iss.input)}"`,
      })
      .transform((v) => v.replace(/\/$/, '')),
    {
      description: 'S3 endpoint URL (MinIO, Swift s3api, Ceph RGW, …)',
      defaultText: 'SDK default',
    },
  ),
  region: defaulted(z.string(), 'us-east-1', { description: 'S3 signing region' }),
  forcePathStyle: defaulted(z.boolean(), false, {
    description: 'path-style addressing (most non-AWS S3 servers)',
  }),
  rootDirectory: defaulted(rootDirectory, '/', { description: "distribution's `rootdirectory`" }),
  accessKeyId: optional(z.string(), {
    description:
      'static credentials, with `secretAccessKey` (both or neither; neither: the AWS SDK provider chain); prefer the environment variable',
    defaultText: 'SDK provider chain',
  }),
  secretAccessKey: optional(z.string(), {
    description: 'static credentials, with `accessKeyId`; prefer the environment variable',
    defaultText: 'SDK provider chain',
  }),
  sessionToken: optional(z.string(), {
    description: 'session token of temporary static credentials',
    defaultText: 'none',
  }),
  requestTimeoutMs: defaulted(integer(1, 60_000), 1000, {
    description: 'timeout of one HeadObject (the lookup deadline still bounds it)',
  }),
});

const filesystem = z.strictObject({
  type: documented(z.literal('filesystem'), { description: 'a local (or mounted) filesystem' }),
  root: required(
    absolutePath().transform((v) => (v.length > 1 ? v.replace(/\/+$/, '') : v)),
    {
      description:
        "distribution's `filesystem.rootdirectory` (absolute; content lives under `<root>/docker/registry/v2`)",
    },
  ),
});

export const storageSchema = required(z.discriminatedUnion('type', [s3, filesystem]), {
  description: "where this region's registry stores its content",
});
