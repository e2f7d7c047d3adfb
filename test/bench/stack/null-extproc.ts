/**
 * The baseline of part 5: an ext_proc server written with the same gRPC library (grpc-js) and the
 * same service definition as geosync, that answers CONTINUE to every message, of the message's own
 * kind, and does nothing else. Like geosync (src/extproc/server.ts) it ends the stream itself
 * after answering response headers, the last message Envoy sends with the generated
 * configuration, so both servers close streams the same way.
 */
import * as grpc from '@grpc/grpc-js';
import { externalProcessorService } from '../../../src/extproc/protos';
import { continueReply } from '../../../src/extproc/replies';
import { phaseOf } from '../../../src/extproc/stream';
import type { ProcessingRequest__Output } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingRequest';
import type { ProcessingResponse } from '../../../src/generated/envoy/service/ext_proc/v3/ProcessingResponse';

export interface NullExtProc {
  readonly grpcAddress: string;
  close(): Promise<void>;
}

export async function startNullExtProc(): Promise<NullExtProc> {
  // The options geosync's own server uses (src/app/engine.ts).
  const server = new grpc.Server({
    'grpc.max_concurrent_streams': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(externalProcessorService(), {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest__Output, ProcessingResponse>) => {
      let ended = false;
      const end = () => {
        if (!ended && !call.cancelled) call.end();
        ended = true;
      };
      call.on('error', () => {});
      call.on('data', (msg: ProcessingRequest__Output) => {
        const phase = phaseOf(msg);
        if (!phase || ended || call.cancelled) return;
        call.write(continueReply(phase));
        if (phase === 'response_headers') end();
      });
      call.on('end', end);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    grpcAddress: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
