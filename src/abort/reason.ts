/**
 * The reason geosync's own aborts carry: one AbortError, made once. `AbortController.abort()`
 * without a reason builds a new DOMException, stack trace included, on every call
 * (https://dom.spec.whatwg.org/#dom-abortcontroller-abort); on the stream path that was 3 % of
 * geosync's CPU in a profile of benchmark part 5. Same name and meaning as the default reason.
 */
export const ABORTED = new DOMException('This operation was aborted', 'AbortError');
