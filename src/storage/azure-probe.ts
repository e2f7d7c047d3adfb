/**
 * ObjectProbe over Azure Blob Storage for registries on distribution's `azure` driver: Get Blob
 * Properties (https://learn.microsoft.com/en-us/rest/api/storageservices/get-blob-properties) for
 * existence and age, and a ranged Get Blob for links. As over S3, the SDK does not retry (a retry
 * would land after the lookup deadline) and every request has its own timeout and honours the
 * caller's signal.
 *
 * Unlike S3, Azure answers a missing blob 404 to a caller that may only read blobs, and tells a
 * missing blob (`BlobNotFound`) from a missing container (`ContainerNotFound`) in the
 * `x-ms-error-code` header, even to a HEAD: no listing permission is needed, for lookups or for
 * the start-up check. The minimum role is "Storage Blob Data Reader" on the container (or a SAS
 * with read permission).
 */
import { DefaultAzureCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { AzureStorage } from '../config/types';
import { boundedRequest, listFolders, readText, UNAVAILABLE_CODES } from './bounded-request';
import { objectKey } from './keys';
import {
  MAX_LINK_BYTES,
  probeError,
  type ListOptions,
  type ListResult,
  type ObjectProbe,
  type ProbeMiss,
  type ProbeResult,
  type ReadOptions,
  type ReadResult,
} from './probe';

export function serviceUrl(storage: AzureStorage): string {
  return storage.serviceurl ?? `https://${storage.accountname}.blob.${storage.realm}`;
}

/** Shared key, SAS, a client secret, or the default chain (managed identity, workload identity, environment). */
function credential(
  storage: AzureStorage,
): StorageSharedKeyCredential | AnonymousCredential | TokenCredential {
  if (storage.accountkey) return new StorageSharedKeyCredential(storage.accountname, storage.accountkey);
  if (storage.sastoken) return new AnonymousCredential();
  const c = storage.credentials;
  if (c?.type === 'client_secret' && c.tenantid && c.clientid && c.secret) {
    return new ClientSecretCredential(c.tenantid, c.clientid, c.secret);
  }
  return new DefaultAzureCredential();
}

export function buildContainerClient(storage: AzureStorage): ContainerClient {
  const sas = storage.sastoken ? `?${storage.sastoken.replace(/^\?/, '')}` : '';
  const service = new BlobServiceClient(`${serviceUrl(storage)}${sas}`, credential(storage), {
    retryOptions: { maxTries: 1 },
    keepAliveOptions: { enable: true },
  });
  return service.getContainerClient(storage.container);
}

interface RestErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
  /** The `x-ms-error-code` header, where the SDK puts it for a HEAD (no body to read it from). */
  readonly details?: { readonly errorCode?: string };
}

/** The service's error code (BlobNotFound, ContainerNotFound, AuthorizationFailure, …). */
function errorCode(e: RestErrorLike): string | undefined {
  return e.details?.errorCode ?? e.code;
}

/**
 * Azure's failures as probe outcomes (https://learn.microsoft.com/en-us/rest/api/storageservices/blob-service-error-codes).
 * Only the status and error code are kept: the SDK's messages can quote the request URL, which
 * carries a SAS token's signature.
 */
export function classifyAzureError(err: unknown): ProbeMiss {
  const e = (typeof err === 'object' && err !== null ? err : {}) as RestErrorLike;
  const what = [e.statusCode, errorCode(e)].filter((x) => x !== undefined).join(' ') || e.name || 'error';
  if (e.name === 'AbortError') return probeError('aborted', 'aborted');
  if (e.statusCode === 404) return { status: 'not_found' };
  if (e.statusCode === 401 || e.statusCode === 403) return probeError('denied', what);
  if (e.statusCode === 429 || e.statusCode === 503) return probeError('throttled', what);
  if (e.statusCode !== undefined && e.statusCode >= 500) return probeError('unavailable', what);
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return probeError('unavailable', e.code);
  if (e.code === 'ETIMEDOUT') return probeError('timeout', e.code);
  // A credential that cannot get a token (no managed identity here, a wrong secret).
  if (e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError')
    return probeError('denied', e.name);
  return probeError('internal', what);
}

export class AzureProbe implements ObjectProbe {
  private readonly container: ContainerClient;

  constructor(
    readonly region: string,
    private readonly storage: AzureStorage,
    container?: ContainerClient,
  ) {
    this.container = container ?? buildContainerClient(storage);
  }

  head(key: string, opts: { signal: AbortSignal }): Promise<ProbeResult> {
    return this.bounded(opts.signal, async (abortSignal) => {
      const props = await this.blob(key).getProperties({ abortSignal });
      return { status: 'found', lastModified: props.lastModified ?? new Date(0) };
    });
  }

  read(key: string, opts: ReadOptions): Promise<ReadResult> {
    const maxBytes = opts.maxBytes ?? MAX_LINK_BYTES;
    return this.bounded(opts.signal, async (abortSignal): Promise<ReadResult> => {
      const out = await this.blob(key).download(0, maxBytes, { abortSignal });
      const text = await readText(out.readableStreamBody, maxBytes);
      return { status: 'found', text, lastModified: out.lastModified ?? new Date(0) };
    });
  }

  /**
   * List Blobs with a `/` delimiter (https://learn.microsoft.com/en-us/rest/api/storageservices/list-blobs):
   * the blob prefixes are the folders, each page bounded by `requestTimeoutMs`. List Blobs has no
   * start-after-a-name parameter, so a listing after a name pages from the folder's start and
   * drops what comes before (listFolders). Needs list permission ("Storage Blob Data Reader" has
   * it; a SAS needs `l`); without it, this answers `denied` and only tag lists lose the siblings' tags.
   */
  list(prefix: string, opts: ListOptions): Promise<ListResult> {
    const full = objectKey(this.storage.rootdirectory, prefix);
    return listFolders(full, opts, (continuationToken, maxPageSize) =>
      this.bounded(opts.signal, async (abortSignal) => {
        const { value } = await this.container
          .listBlobsByHierarchy('/', { prefix: full, abortSignal })
          .byPage({ maxPageSize, ...(continuationToken ? { continuationToken } : {}) })
          .next();
        return {
          prefixes: (value?.segment.blobPrefixes ?? []).map((p: { name: string }) => p.name),
          next: value?.continuationToken,
        };
      }),
    );
  }

  private blob(key: string) {
    return this.container.getBlobClient(objectKey(this.storage.rootdirectory, key));
  }

  private bounded<R extends object>(
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<R>,
  ): Promise<R | ProbeMiss> {
    return boundedRequest(this.storage.requestTimeoutMs, signal, send, classifyAzureError);
  }

  /** A HEAD of a key that need not exist: `ContainerNotFound` and 403 are configuration faults. */
  async check(opts: { signal: AbortSignal }): Promise<string | undefined> {
    try {
      await this.blob('geosync-check').getProperties({ abortSignal: opts.signal });
      return undefined;
    } catch (err) {
      const e = err as RestErrorLike;
      const where = `container "${this.storage.container}" of account "${this.storage.accountname}"`;
      if (e.statusCode === 404 && errorCode(e) === 'ContainerNotFound') return `${where} does not exist`;
      const result = classifyAzureError(err);
      if (result.status === 'error' && result.kind === 'denied') {
        return `access to ${where} is denied (${result.message}): geosync needs the "Storage Blob Data Reader" role on the container, or a SAS with read permission`;
      }
      return undefined;
    }
  }

  async close(): Promise<void> {}
}
