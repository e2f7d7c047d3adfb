/**
 * `regions[].storage`: where a region's registry (CNCF distribution) keeps its content, so that
 * geosync can look for a blob or manifest there without asking that region's registry. Azure and
 * GCS take distribution's own parameter names, so they can be copied from the registry's
 * configuration (https://distribution.github.io/distribution/storage-drivers/).
 */
import { z } from 'zod';
import { absolutePath, defaulted, env, integer, matching, object, optional, required, secret } from '../keys';
import { withRules } from '../refine';

const ROOT_DIRECTORY = "distribution's `rootdirectory`";
const TIMEOUT = 'timeout of one request (the lookup deadline still bounds it)';
// The union's discriminator is a bare z.literal (no preprocess), as discriminatedUnion requires.

/** distribution's `rootdirectory` without leading or trailing slashes ('' for the bucket root). */
const rootDirectory = () =>
  defaulted(
    z.string().transform((v) => v.split('/').filter(Boolean).join('/')),
    '/',
  );
const requestTimeoutMs = () => defaulted(integer(1, 60_000), 1000);
const httpUrl = (pattern: RegExp, what = '') =>
  matching(pattern, `an http(s) URL${what}`).transform((v) => v.replace(/\/$/, ''));
const credential = (variable: string, defaultText = 'none', inner = z.string().min(1)) =>
  env(variable, secret(optional(inner, defaultText)));

const s3 = withRules(
  object(
    {
      type: z.literal('s3'),
      bucket: required(z.string()),
      endpoint: optional(httpUrl(/^https?:\/\/[^/]+\/?$/, ' with no path'), 'SDK default'),
      region: defaulted(z.string(), 'us-east-1'),
      forcePathStyle: defaulted(z.boolean(), false),
      rootDirectory: rootDirectory(),
      accessKeyId: credential('GEOSYNC_S3_<REGION>_ACCESS_KEY_ID', 'SDK provider chain', z.string()),
      secretAccessKey: credential('GEOSYNC_S3_<REGION>_SECRET_ACCESS_KEY', 'SDK provider chain', z.string()),
      sessionToken: credential('GEOSYNC_S3_<REGION>_SESSION_TOKEN', 'none', z.string()),
      requestTimeoutMs: requestTimeoutMs(),
    },
    {
      type: 'S3 (or an S3-compatible server)',
      bucket: 'the bucket distribution writes to',
      endpoint: 'S3 endpoint URL (MinIO, Swift s3api, Ceph RGW, …)',
      region: 'S3 signing region',
      forcePathStyle: 'path-style addressing (most non-AWS S3 servers)',
      rootDirectory: ROOT_DIRECTORY,
      accessKeyId:
        'static credentials, with `secretAccessKey` (both or neither; neither: the AWS SDK provider chain); prefer the environment variable',
      secretAccessKey: 'static credentials, with `accessKeyId`; prefer the environment variable',
      sessionToken: 'session token of temporary static credentials',
      requestTimeoutMs: 'timeout of one HeadObject (the lookup deadline still bounds it)',
    },
  ),
  (s) =>
    (s.accessKeyId === undefined) === (s.secretAccessKey === undefined)
      ? []
      : [
          {
            path: [s.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'],
            message:
              'accessKeyId and secretAccessKey go together (leave both out to use the AWS SDK provider chain)',
          },
        ],
).transform(({ accessKeyId, secretAccessKey, sessionToken, ...rest }) => ({
  ...rest,
  // Without static credentials, the AWS SDK's default provider chain.
  ...(accessKeyId !== undefined && secretAccessKey !== undefined
    ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
    : {}),
}));

const filesystem = object(
  {
    type: z.literal('filesystem'),
    root: required(absolutePath().transform((v) => v.replace(/(.)\/+$/, '$1'))),
  },
  {
    type: 'a local (or mounted) filesystem',
    root: "distribution's `filesystem.rootdirectory` (absolute; content lives under `<root>/docker/registry/v2`)",
  },
);

/** registry/storage/driver/azure/parser.go of distribution. */
const azure = withRules(
  object(
    {
      type: z.literal('azure'),
      accountname: required(z.string().min(1)),
      container: required(z.string().min(1)),
      realm: defaulted(z.string(), 'core.windows.net'),
      serviceurl: optional(httpUrl(/^https?:\/\/[^/]+\/?[^?#]*$/), '`https://<accountname>.blob.<realm>`'),
      rootdirectory: rootDirectory(),
      accountkey: credential('GEOSYNC_AZURE_<REGION>_ACCOUNT_KEY'),
      sastoken: credential('GEOSYNC_AZURE_<REGION>_SAS_TOKEN'),
      credentials: optional(
        z.strictObject({
          type: z.enum(['default_credentials', 'client_secret']),
          clientid: z.string().min(1).optional(),
          tenantid: z.string().min(1).optional(),
          secret: secret(z.string().min(1)).optional(),
        }),
        '`default_credentials` when no key or SAS is set',
      ),
      requestTimeoutMs: requestTimeoutMs(),
    },
    {
      type: 'Azure Blob Storage',
      accountname: 'the storage account',
      container: 'the container distribution writes to',
      realm: 'the endpoint suffix of the cloud',
      serviceurl: 'the blob service URL (Azurite, a private endpoint)',
      rootdirectory: ROOT_DIRECTORY,
      accountkey: 'shared key; prefer the environment variable',
      sastoken: 'a SAS token with read (`r`) permission on the container, instead of a key',
      credentials:
        "Microsoft Entra ID, as distribution's `credentials`: `default_credentials` (managed or workload identity, environment) or `client_secret` (`clientid`, `tenantid`, `secret`)",
      requestTimeoutMs: TIMEOUT,
    },
  ),
  // One way to authenticate, and a client secret whole (distribution's `credentials`).
  (s) => {
    const kinds = (['accountkey', 'sastoken', 'credentials'] as const).filter((k) => s[k] !== undefined);
    const missing = (['clientid', 'tenantid', 'secret'] as const).filter((k) => !s.credentials?.[k]);
    if (kinds.length > 1)
      return [
        { path: [kinds[1]!], message: `set one of ${kinds.join(', ')}: each is a way to authenticate` },
      ];
    return s.credentials?.type !== 'client_secret' || missing.length === 0
      ? []
      : [{ path: ['credentials'], message: `client_secret needs ${missing.join(', ')}` }];
  },
);

/** distribution's `gcs` driver; it and the Node client both honour `STORAGE_EMULATOR_HOST`. */
const gcs = object(
  {
    type: z.literal('gcs'),
    bucket: required(z.string().min(1)),
    rootdirectory: rootDirectory(),
    keyfile: optional(absolutePath(), 'application default credentials'),
    endpoint: optional(httpUrl(/^https?:\/\/[^/]+\/?[^?#]*$/), 'Google Cloud Storage'),
    requestTimeoutMs: requestTimeoutMs(),
  },
  {
    type: 'Google Cloud Storage',
    bucket: 'the bucket distribution writes to',
    rootdirectory: ROOT_DIRECTORY,
    keyfile: 'a service account key file (JSON)',
    endpoint: 'the JSON API endpoint (an emulator; `STORAGE_EMULATOR_HOST` also sets it)',
    requestTimeoutMs: TIMEOUT,
  },
);

export const storageSchema = z.discriminatedUnion('type', [s3, filesystem, azure, gcs]);
