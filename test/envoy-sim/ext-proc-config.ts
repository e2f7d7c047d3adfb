/**
 * Reads `envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor` (ext_proc.proto) for the
 * upstream filter. Defaults: message_timeout 200 ms, failure_mode_allow false, headers SEND,
 * bodies NONE, trailers SKIP (§1.2). Body modes other than NONE are rejected at load: the
 * simulator streams bodies and never shows them to the processor.
 */
import {
  BootstrapError,
  type Obj,
  bool,
  durationMs,
  list,
  obj,
  optStr,
  regexMatcher,
  str,
  typeName,
} from './proto-values';

export const EXT_PROC_TYPE = 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';

export type HeaderSendMode = 'DEFAULT' | 'SEND' | 'SKIP';
export type BodySendMode = 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';

export interface ProcessingModeConfig {
  request_header_mode: HeaderSendMode;
  response_header_mode: HeaderSendMode;
  request_body_mode: BodySendMode;
  response_body_mode: BodySendMode;
  request_trailer_mode: HeaderSendMode;
  response_trailer_mode: HeaderSendMode;
}

export interface MutationRules {
  allowAllRouting: boolean;
  allowEnvoy: boolean;
  disallowSystem: boolean;
  disallowAll: boolean;
  disallowIsError: boolean;
  allowExpression?: RegExp;
  disallowExpression?: RegExp;
}

export interface ExtProcConfig {
  /** `grpc_service.envoy_grpc.cluster_name`. */
  grpcCluster: string;
  /** `grpc_service.envoy_grpc.authority` (defaults to the cluster name, as Envoy's async client does). */
  grpcAuthority?: string;
  failureModeAllow: boolean;
  messageTimeoutMs: number;
  maxMessageTimeoutMs: number;
  processingMode: ProcessingModeConfig;
  allowModeOverride: boolean;
  disableImmediateResponse: boolean;
  requestAttributes: string[];
  responseAttributes: string[];
  mutationRules: MutationRules;
  statPrefix: string;
}

const HEADER_MODES = new Set(['DEFAULT', 'SEND', 'SKIP']);
const BODY_MODES = new Set(['NONE', 'STREAMED', 'BUFFERED', 'BUFFERED_PARTIAL']);
const NOT_MODELLED = [
  'observability_mode',
  'http_service',
  'send_body_without_waiting_for_header_response',
  'allowed_override_modes',
  'processing_request_modifier',
];

export function parseExtProcConfig(typedConfig: Obj, path: string): ExtProcConfig {
  if (typeName(typedConfig) !== EXT_PROC_TYPE)
    throw new BootstrapError(`${path}.@type`, `expected ${EXT_PROC_TYPE}`);
  for (const key of NOT_MODELLED)
    if (typedConfig[key] !== undefined && typedConfig[key] !== false)
      throw new BootstrapError(`${path}.${key}`, 'not modelled by the simulator');
  const grpc = obj(typedConfig.grpc_service, `${path}.grpc_service`);
  const envoyGrpc = obj(grpc.envoy_grpc, `${path}.grpc_service.envoy_grpc`);
  if (grpc.google_grpc !== undefined)
    throw new BootstrapError(`${path}.grpc_service.google_grpc`, 'only envoy_grpc is modelled');
  return {
    grpcCluster: str(envoyGrpc.cluster_name, `${path}.grpc_service.envoy_grpc.cluster_name`),
    grpcAuthority: optStr(envoyGrpc.authority, `${path}.grpc_service.envoy_grpc.authority`),
    failureModeAllow: bool(typedConfig.failure_mode_allow, `${path}.failure_mode_allow`, false),
    messageTimeoutMs: durationMs(typedConfig.message_timeout, `${path}.message_timeout`) ?? 200,
    maxMessageTimeoutMs: durationMs(typedConfig.max_message_timeout, `${path}.max_message_timeout`) ?? 0,
    processingMode: parseProcessingMode(typedConfig.processing_mode, `${path}.processing_mode`),
    allowModeOverride: bool(typedConfig.allow_mode_override, `${path}.allow_mode_override`, false),
    disableImmediateResponse: bool(
      typedConfig.disable_immediate_response,
      `${path}.disable_immediate_response`,
      false,
    ),
    requestAttributes: list(typedConfig.request_attributes, `${path}.request_attributes`).map(String),
    responseAttributes: list(typedConfig.response_attributes, `${path}.response_attributes`).map(String),
    mutationRules: parseMutationRules(typedConfig.mutation_rules, `${path}.mutation_rules`),
    statPrefix: str(typedConfig.stat_prefix, `${path}.stat_prefix`, ''),
  };
}

export function parseProcessingMode(v: unknown, path: string): ProcessingModeConfig {
  const m = obj(v, path);
  const header = (key: string): HeaderSendMode => {
    const value = str(m[key], `${path}.${key}`, 'DEFAULT');
    if (!HEADER_MODES.has(value)) throw new BootstrapError(`${path}.${key}`, `bad HeaderSendMode '${value}'`);
    return value as HeaderSendMode;
  };
  const body = (key: string): BodySendMode => {
    const value = str(m[key], `${path}.${key}`, 'NONE');
    if (!BODY_MODES.has(value)) throw new BootstrapError(`${path}.${key}`, `bad BodySendMode '${value}'`);
    if (value !== 'NONE')
      throw new BootstrapError(
        `${path}.${key}`,
        `body mode ${value} is not modelled (the simulator supports NONE only)`,
      );
    return value as BodySendMode;
  };
  return {
    request_header_mode: header('request_header_mode'),
    response_header_mode: header('response_header_mode'),
    request_body_mode: body('request_body_mode'),
    response_body_mode: body('response_body_mode'),
    request_trailer_mode: header('request_trailer_mode'),
    response_trailer_mode: header('response_trailer_mode'),
  };
}

/** config.common.mutation_rules.v3.HeaderMutationRules (all BoolValues default false). */
function parseMutationRules(v: unknown, path: string): MutationRules {
  const r = obj(v, path);
  return {
    allowAllRouting: bool(r.allow_all_routing, `${path}.allow_all_routing`, false),
    allowEnvoy: bool(r.allow_envoy, `${path}.allow_envoy`, false),
    disallowSystem: bool(r.disallow_system, `${path}.disallow_system`, false),
    disallowAll: bool(r.disallow_all, `${path}.disallow_all`, false),
    disallowIsError: bool(r.disallow_is_error, `${path}.disallow_is_error`, false),
    // RegexMatchers; Checker uses RE2 full match.
    allowExpression:
      r.allow_expression !== undefined
        ? regexMatcher(r.allow_expression, `${path}.allow_expression`)
        : undefined,
    disallowExpression:
      r.disallow_expression !== undefined
        ? regexMatcher(r.disallow_expression, `${path}.disallow_expression`)
        : undefined,
  };
}
