/**
 * Bounds for the uWSGI legion wire format. uWSGI itself reads at most 65535 - 32 - 4 bytes
 * from its socket (UMAX16 - EVP_MAX_BLOCK_LENGTH - 4), so we never send more than that, while
 * the decoder accepts anything the u16 header can describe.
 */
export const UWSGI_MODIFIER1 = 109;
export const UWSGI_HEADER_BYTES = 4;
/** largest datagram the decoder looks at */
export const UWSGI_MAX_PACKET = 65535;
/** largest datagram we send: what uWSGI's legion thread reads in one go */
export const UWSGI_MAX_SEND_PACKET = 65499;
/** the header's length field is a u16 */
export const UWSGI_MAX_BODY = 65535;
/** uWSGI ignores (treats as unset) UUIDs of any other length; we drop the packet */
export const UWSGI_UUID_BYTES = 36;
/** hostnames and legion names are short; anything longer is not a uWSGI announce */
export const UWSGI_MAX_NAME_BYTES = 255;
export const UWSGI_MAX_LEGION_BYTES = 255;
/** a scroll is bounded only by the packet; uWSGI's own default cap for the lord scroll is 4096 */
export const UWSGI_MAX_SCROLL_BYTES = 60_000;
export const UWSGI_MAX_PID = 0xffff_ffff;
