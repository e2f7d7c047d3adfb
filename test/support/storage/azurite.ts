/**
 * Azurite, Microsoft's Azure Storage emulator (npm `azurite`, its blob service only), on a free
 * loopback port: the Azure Blob Storage that distribution v3's azure driver writes to in the tests.
 * Data is kept in memory (`--inMemoryPersistence`, which Azurite refuses together with
 * `--location`) and it runs in a temporary directory that holds its log, so nothing survives stop(). `--loose` and `--skipApiVersionCheck` let newer Azure SDKs (the Go one
 * in distribution, `@azure/storage-blob` here) talk to it; `--silent` drops its access log,
 * `--disableTelemetry` keeps it off the network.
 *
 * The account is Azurite's built-in development account (its name and key are public,
 * https://learn.microsoft.com/en-us/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ROOT } from '../clients/geosync-cli';
import { freePort } from '../net/ports';
import { spawnManaged, waitForHttp } from '../process';

export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const AZURITE_BLOB = path.join(ROOT, 'node_modules', '.bin', 'azurite-blob');

export interface Azurite {
  /** `http://127.0.0.1:PORT/devstoreaccount1` (path-style: the account is the first segment). */
  readonly blobUrl: string;
  readonly port: number;
  readonly accountName: string;
  readonly accountKey: string;
  readonly logFile: string;
  /** Creates a blob container (no public access); an existing one is not an error. */
  createContainer(name: string): Promise<void>;
  /** A client of one container, with the account's shared key. */
  containerClient(name: string): ContainerClient;
  /** Stops Azurite and removes its temporary directory; idempotent, safe after a failed start. */
  stop(): Promise<void>;
}

export async function startAzurite(opts: { timeoutMs?: number } = {}): Promise<Azurite> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geosync-azurite-'));
  const port = await freePort();
  const proc = spawnManaged(
    'azurite',
    AZURITE_BLOB,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--loose',
      '--skipApiVersionCheck',
      '--silent',
      '--disableTelemetry',
    ],
    { logDir: dir, cwd: dir },
  );
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= proc.stop().then(() => fs.rmSync(dir, { recursive: true, force: true }));
    return stopped;
  };
  const blobUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
  try {
    // Any answer means it serves (an anonymous GET of the account is refused with 4xx).
    await waitForHttp(`${blobUrl}?comp=list`, { timeoutMs: opts.timeoutMs ?? 20_000, proc });
  } catch (err) {
    await stop();
    throw err;
  }
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY);
  const containerClient = (name: string): ContainerClient =>
    new ContainerClient(`${blobUrl}/${name}`, credential);
  return {
    blobUrl,
    port,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    logFile: proc.logFile,
    async createContainer(name: string): Promise<void> {
      await containerClient(name).createIfNotExists({ abortSignal: AbortSignal.timeout(10_000) });
    },
    containerClient,
    stop,
  };
}
