/** geosync's two listeners cannot share a socket. */
import type { ListenAddress } from '../sections/listen';
import { problem } from '../problems';
import type { Rule } from './context';

export const listenersDiffer: Rule = (ctx) => {
  // Addresses are parsed whole or not at all (salvage.ts keeps single values whole).
  const { grpc, admin } = (ctx.file.listen ?? {}) as { grpc?: ListenAddress; admin?: ListenAddress };
  return grpc && admin && same(grpc, admin) ? [problem('listen.admin', 'must differ from listen.grpc')] : [];
};

function same(a: ListenAddress, b: ListenAddress): boolean {
  if (a.kind === 'unix' && b.kind === 'unix') return a.path === b.path;
  if (a.kind === 'tcp' && b.kind === 'tcp') return a.port !== 0 && a.host === b.host && a.port === b.port;
  return false;
}
