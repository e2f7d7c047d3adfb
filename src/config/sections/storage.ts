/**
 * `regions[].storage`: where a region's registry (CNCF distribution) keeps its content, so that
 * geosync can look for a blob or manifest there without asking that region's registry.
 */
import { z } from 'zod';
import { absolutePath, defaulted, documented, integer, optional, required, secret } from '../keys';

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
  accessKeyId: secret(
    optional(z.string(), {
      description:
        'static credentials, with `secretAccessKey` (both or neither; neither: the AWS SDK provider chain); prefer the environment variable',
      defaultText: 'SDK provider chain',
    }),
  ),
  secretAccessKey: secret(
    optional(z.string(), {
      description: 'static credentials, with `accessKeyId`; prefer the environment variable',
      defaultText: 'SDK provider chain',
    }),
  ),
  sessionToken: secret(
    optional(z.string(), {
      description: 'session token of temporary static credentials',
      defaultText: 'none',
    }),
  ),
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

const requestTimeoutMs = () =>
  defaulted(integer(1, 60_000), 1000, {
    description: 'timeout of one request (the lookup deadline still bounds it)',
  });

const httpUrl = z.string().regex(/^https?:\/\/[^/]+\/?[^?#]*$/, {
  error: (iss) => `must be an http(s) URL, got "${String(iss.input)}"`,
});

/**
 * distribution's `azure` driver, with its parameter names (registry/storage/driver/azure/parser.go),
 * so they can be copied from the registry's configuration.
 * https://distribution.github.io/distribution/storage-drivers/azure/
 */
const azure = z.strictObject({
  type: documented(z.literal('azure'), { description: 'Azure Blob Storage' }),
  accountname: required(z.string().min(1), { description: 'the storage account' }),
  container: required(z.string().min(1), { description: 'the container distribution writes to' }),
  realm: defaulted(z.string(), 'core.windows.net', { description: 'the endpoint suffix of the cloud' }),
  serviceurl: optional(
    httpUrl.transform((v) => v.replace(/\/$/, '')),
    {
      description: 'the blob service URL (Azurite, a private endpoint)',
      defaultText: '`https://<accountname>.blob.<realm>`',
    },
  ),
  rootdirectory: defaulted(rootDirectory, '/', { description: "distribution's `rootdirectory`" }),
  accountkey: secret(
    optional(z.string().min(1), {
      description: 'shared key; prefer the environment variable',
      defaultText: 'none',
    }),
  ),
  sastoken: secret(
    optional(z.string().min(1), {
      description: 'a SAS token with read (`r`) permission on the container, instead of a key',
      defaultText: 'none',
    }),
  ),
  credentials: optional(
    z.strictObject({
      type: z.enum(['default_credentials', 'client_secret']),
      clientid: z.string().min(1).optional(),
      tenantid: z.string().min(1).optional(),
      secret: secret(z.string().min(1)).optional(),
    }),
    {
      description:
        "Microsoft Entra ID, as distribution's `credentials`: `default_credentials` (managed or workload identity, environment) or `client_secret` (`clientid`, `tenantid`, `secret`)",
      defaultText: '`default_credentials` when no key or SAS is set',
    },
  ),
  requestTimeoutMs: requestTimeoutMs(),
});

/**
 * distribution's `gcs` driver (https://distribution.github.io/distribution/storage-drivers/gcs/).
 * Both it and the Node client honour `STORAGE_EMULATOR_HOST`.
 */
const gcs = z.strictObject({
  type: documented(z.literal('gcs'), { description: 'Google Cloud Storage' }),
  bucket: required(z.string().min(1), { description: 'the bucket distribution writes to' }),
  rootdirectory: defaulted(rootDirectory, '/', { description: "distribution's `rootdirectory`" }),
  keyfile: optional(absolutePath(), {
    description: 'a service account key file (JSON)',
    defaultText: 'application default credentials',
  }),
  endpoint: optional(
    httpUrl.transform((v) => v.replace(/\/$/, '')),
    {
      description: 'the JSON API endpoint (an emulator; `STORAGE_EMULATOR_HOST` also sets it)',
      defaultText: 'Google Cloud Storage',
    },
  ),
  requestTimeoutMs: requestTimeoutMs(),
});

export const storageSchema = z.discriminatedUnion('type', [s3, filesystem, azure, gcs]);
