/**
 * The user-id of a client's Basic credentials, as Envoy passes it to geosync: Envoy decodes
 * `Authorization: Basic` itself and passes the user-id alone, never the password
 * (src/envoy/basic-user-filter.ts). RFC 7617 §2: the user-id is what precedes the first colon of
 * the decoded credentials. geosync uses it as the client's intent only (PullPolicy.pushCheckBasicUsers):
 * the registry authorizes the credentials, and a forged user-id could only change what its own
 * sender sees.
 *
 * Only user-ids of visible ASCII characters (what htpasswd robot accounts are named) are passed,
 * at most MAX_BASIC_USER_LENGTH of them; the configuration accepts no other names.
 */

export const MAX_BASIC_USER_LENGTH = 256;

/** 1 to 256 visible ASCII characters (0x21-0x7e) except the colon (0x3a). */
export const BASIC_USER_ID = new RegExp(`^[\\x21-\\x39\\x3b-\\x7e]{1,${MAX_BASIC_USER_LENGTH}}$`);

/** The user-id in an attribute Envoy sent; undefined when absent or not a user-id. */
export function basicUser(value: string | undefined): string | undefined {
  return value !== undefined && BASIC_USER_ID.test(value) ? value : undefined;
}
