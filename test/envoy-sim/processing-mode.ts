/**
 * `mode_override` (§1.6). Before 1.34 the override replaced the whole mode, so DEFAULT meant SEND
 * for headers and SKIP for trailers (processor_state.cc setProcessingModeInternal: send_headers_ =
 * mode != SKIP, send_trailers_ = mode == SEND). From 1.34 (ext_proc.cc effectiveModeOverride) a
 * DEFAULT header/trailer mode leaves the configured value unchanged.
 */
import type { ProcessingMode__Output } from '../../src/generated/envoy/extensions/filters/http/ext_proc/v3/ProcessingMode';
import type { HeaderSendMode, ProcessingModeConfig } from './ext-proc-config';

type HeaderKey =
  'request_header_mode' | 'response_header_mode' | 'request_trailer_mode' | 'response_trailer_mode';

export function effectiveModeOverride(
  configured: ProcessingModeConfig,
  override: ProcessingMode__Output,
  defaultKeepsConfigured: boolean,
): ProcessingModeConfig {
  const pick = (key: HeaderKey): HeaderSendMode =>
    defaultKeepsConfigured && override[key] === 'DEFAULT' ? configured[key] : override[key];
  return {
    request_header_mode: pick('request_header_mode'),
    response_header_mode: pick('response_header_mode'),
    request_trailer_mode: pick('request_trailer_mode'),
    response_trailer_mode: pick('response_trailer_mode'),
    // Body modes other than NONE are not modelled; an override cannot turn them on here.
    request_body_mode: 'NONE',
    response_body_mode: 'NONE',
  };
}
