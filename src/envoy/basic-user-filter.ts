/**
 * The user name of a client's `Authorization: Basic` credentials, derived inside Envoy, so that
 * geosync learns who pushes (PullPolicy.pushCheckBasicUsers, src/oci/pull.ts) and never the
 * password: a Lua filter decodes the credentials and sets `x-geosync-basic-user` to their user-id
 * alone, which geosync reads as a response attribute (src/extproc/headers.ts, ATTRIBUTE.basicUser).
 *
 * Why Lua: Envoy's CEL has no base64 decoder. Its builder registers CEL's built-in functions, the
 * regex extension and (with `cel_config.enable_string_functions`) replace/split/lowerAscii/
 * upperAscii, nothing of CEL's encoders extension
 * (source/extensions/filters/common/expr/evaluator.cc, createBuilder; api/envoy/config/core/v3/cel.proto).
 * Envoy's Lua API encodes base64 (`base64Escape`) but does not decode it, so the decoder is here.
 *
 * It is an upstream filter of the pull cluster, before ext_proc: it runs only for the requests
 * geosync can be asked about, and in the generated bootstrap and the Envoy Gateway patch alike
 * (the Lua filter is a dual downstream/upstream filter: source/extensions/filters/http/lua/config.h).
 * Envoy's ext_proc reads request-header attributes from the same request headers the upstream
 * filters change. The script removes any client-sent `x-geosync-basic-user` first, so only Envoy
 * can set it.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/lua_filter
 */
import { HEADER } from '../extproc/headers';
import { MAX_BASIC_USER_LENGTH } from '../oci/basic-user';
import { EXT, TYPE } from './names';

type Json = Record<string, unknown>;

/**
 * `Authorization: <scheme> <token68>` with the scheme matched without case (RFC 9110 §11.1), the
 * token decoded as base64 (RFC 4648 §4), and the user-id taken up to the first colon (RFC 7617
 * §2: a user-id cannot contain one). Only a user-id of 1 to MAX_BASIC_USER_LENGTH visible ASCII
 * characters is passed; anything else (no colon, control characters, other schemes, repeated
 * Authorization headers, which Envoy joins with a comma) sets nothing. Decoding stops at the colon:
 * the password is never decoded. Plain Lua 5.1 arithmetic (LuaJIT, Envoy's Lua), no bit library.
 */
export const BASIC_USER_LUA = `
local HEADER = "${HEADER.basicUser}"
local MAX_USER = ${MAX_BASIC_USER_LENGTH}
-- Longer values are no Basic credentials a registry accepts: not worth decoding.
local MAX_CREDENTIALS = 4096
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local SEXTET = {}
for i = 1, 64 do SEXTET[string.byte(ALPHABET, i)] = i - 1 end

local function basic_user(authorization)
  if authorization == nil or #authorization > MAX_CREDENTIALS then return nil end
  local scheme, token = string.match(authorization, "^(%a+) +([%w+/]+)=*$")
  if scheme == nil or string.lower(scheme) ~= "basic" then return nil end
  local user, acc, bits = {}, 0, 0
  for i = 1, #token do
    acc = acc * 64 + SEXTET[string.byte(token, i)]
    bits = bits + 6
    if bits >= 8 then
      bits = bits - 8
      local unit = 2 ^ bits
      local byte = math.floor(acc / unit)
      acc = acc % unit
      if byte == 58 then
        if #user == 0 then return nil end
        return table.concat(user)
      end
      if byte < 33 or byte > 126 or #user >= MAX_USER then return nil end
      user[#user + 1] = string.char(byte)
    end
  end
  return nil
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  headers:remove(HEADER)
  local user = basic_user(headers:get("authorization"))
  if user ~= nil then headers:add(HEADER, user) end
end
`;

/** The upstream Lua filter that sets `x-geosync-basic-user` (and nothing else). */
export function basicUserFilter(): Json {
  return {
    name: EXT.lua,
    typed_config: { '@type': TYPE.lua, default_source_code: { inline_string: BASIC_USER_LUA } },
  };
}
