/**
 * Envoy's API protos (the copy in @grpc/grpc-js-xds, about Envoy 1.31-1.32) as a protobufjs Root,
 * for validating bootstraps. Extension messages named by an Any's `@type` are loaded on demand
 * from the directory their package maps to (envoy.extensions.filters.http.router.v3 →
 * envoy/extensions/filters/http/router/v3/*.proto), the same layout Envoy's API repository uses.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
// Importing proto-loader registers descriptor.proto and friends with protobufjs (addCommonProtos),
// which the Envoy protos import through their annotations.
import '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { envoyProtoIncludeDirs } from '../extproc/protos';

export const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap';

export class EnvoyProtos {
  private readonly root = new protobuf.Root();
  private readonly loadedDirs = new Set<string>();

  constructor(private readonly includeDirs: readonly string[] = envoyProtoIncludeDirs()) {
    this.root.resolvePath = (_origin, target) => {
      if (path.isAbsolute(target)) return target;
      for (const dir of this.includeDirs) {
        const full = path.join(dir, target);
        if (existsSync(full)) return full;
      }
      return target;
    };
    this.root.loadSync('envoy/config/bootstrap/v3/bootstrap.proto', { keepCase: true });
    this.root.resolveAll();
  }

  /** The message type with this full name, loading its package's protos if needed. */
  lookup(fullName: string): protobuf.Type | undefined {
    const found = this.tryLookup(fullName);
    if (found) return found;
    const pkg = fullName.split('.').slice(0, -1);
    // Nested messages (a.b.v3.Outer.Inner) live in the package of their outermost message.
    for (let n = pkg.length; n > 0; n--) {
      if (this.loadPackageDir(pkg.slice(0, n).join('/'))) {
        const again = this.tryLookup(fullName);
        if (again) return again;
      }
    }
    return undefined;
  }

  private tryLookup(fullName: string): protobuf.Type | undefined {
    const found = this.root.lookup(fullName);
    return found instanceof protobuf.Type ? found : undefined;
  }

  private loadPackageDir(relDir: string): boolean {
    if (this.loadedDirs.has(relDir)) return false;
    this.loadedDirs.add(relDir);
    const files: string[] = [];
    for (const dir of this.includeDirs) {
      const full = path.join(dir, relDir);
      if (!existsSync(full)) continue;
      for (const f of readdirSync(full)) if (f.endsWith('.proto')) files.push(path.join(relDir, f));
    }
    if (files.length === 0) return false;
    this.root.loadSync(files, { keepCase: true });
    this.root.resolveAll();
    return true;
  }
}

let shared: EnvoyProtos | undefined;

/** One loaded Root per process: loading the bootstrap's closure takes about half a second. */
export function envoyProtos(): EnvoyProtos {
  shared ??= new EnvoyProtos();
  return shared;
}
