/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_base64.c - table-driven base64 decoding and encoding, and the Java
 * string hash.
 *
 * One table serves both alphabets: letters and digits map to 0..61, the
 * standard '+' and '/' to 62 and 63, the URL-safe '-' and '_' to 62 and
 * 63 with XF_B64_URLBIT set, so that the flags decide per call which of
 * them count.  Groups of four letters or digits, nearly all of a real
 * payload, go through a fast path without any of those checks.
 */

#include <string.h>

#include "xf_base64.h"


#define XF_B64_BAD      0xFF
#define XF_B64_PAD      0xFE
#define XF_B64_SKIP     0xFD        /* CR, LF */
#define XF_B64_URLBIT   0x80


static const char  xf_base64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char  xf_base64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/*
 * The value of every byte, built from the two alphabets above so that the
 * decoder cannot disagree with the encoder.  It is filled when the module
 * (or a test binary) is loaded, before any thread exists, so the decoder
 * reads it without a lock or a "done" check.
 */
static u_char  xf_base64_dec[256];


static void xf_base64_init(void) __attribute__((constructor));


static void
xf_base64_init(void)
{
    u_char  i;

    memset(xf_base64_dec, XF_B64_BAD, sizeof(xf_base64_dec));

    for (i = 0; i < 64; i++) {
        xf_base64_dec[(u_char) xf_base64_std[i]] = i;
    }

    /* '-' and '_' only where the URL-safe alphabet differs */

    for (i = 62; i < 64; i++) {
        xf_base64_dec[(u_char) xf_base64_url[i]] = i | XF_B64_URLBIT;
    }

    xf_base64_dec['='] = XF_B64_PAD;
    xf_base64_dec['\r'] = XF_B64_SKIP;
    xf_base64_dec['\n'] = XF_B64_SKIP;
}


xf_status_t
xf_base64_decode(const u_char *src, size_t len, unsigned flags, u_char *dst,
    size_t *dst_len)
{
    size_t    i, o;
    u_char    v, a, b, c, d, lim;
    unsigned  n, pad;
    uint32_t  acc;

    /* Values below lim need no check: 62 and 63 only with "+/". */
    lim = (flags & XF_BASE64_STD) ? 64 : 62;

    i = 0;
    o = 0;
    n = 0;
    pad = 0;
    acc = 0;

    while (i < len) {

        /* Fast path: a whole group of letters and digits. */

        if (n == 0 && len - i >= 4) {
            a = xf_base64_dec[src[i]];
            b = xf_base64_dec[src[i + 1]];
            c = xf_base64_dec[src[i + 2]];
            d = xf_base64_dec[src[i + 3]];

            if (a < lim && b < lim && c < lim && d < lim) {
                acc = (uint32_t) a << 18 | (uint32_t) b << 12
                      | (uint32_t) c << 6 | d;
                dst[o++] = (u_char) (acc >> 16);
                dst[o++] = (u_char) (acc >> 8);
                dst[o++] = (u_char) acc;
                acc = 0;
                i += 4;
                continue;
            }
        }

        v = xf_base64_dec[src[i++]];

        if (v == XF_B64_SKIP) {
            continue;
        }

        if (v == XF_B64_PAD) {
            /* "=" completes a group of 2 or 3 characters, never more. */
            if (n < 2 || n + ++pad > 4) {
                return XF_ERR_BASE64;
            }

            continue;
        }

        if (v == XF_B64_BAD || pad != 0) {
            return XF_ERR_BASE64;
        }

        if (v & XF_B64_URLBIT) {
            if (!(flags & XF_BASE64_URL)) {
                return XF_ERR_BASE64;
            }

            v &= ~XF_B64_URLBIT;

        } else if (v >= 62 && !(flags & XF_BASE64_STD)) {
            return XF_ERR_BASE64;
        }

        acc = acc << 6 | v;

        if (++n == 4) {
            dst[o++] = (u_char) (acc >> 16);
            dst[o++] = (u_char) (acc >> 8);
            dst[o++] = (u_char) acc;
            acc = 0;
            n = 0;
        }
    }

    if (pad != 0 && n + pad != 4) {
        return XF_ERR_BASE64;
    }

    /* n == 0: whole groups; 2 or 3: a short last group, unused bits 0. */

    switch (n) {

    case 0:
        break;

    case 2:
        if (acc & 0x0F) {
            return XF_ERR_BASE64;
        }

        dst[o++] = (u_char) (acc >> 4);
        break;

    case 3:
        if (acc & 0x03) {
            return XF_ERR_BASE64;
        }

        dst[o++] = (u_char) (acc >> 10);
        dst[o++] = (u_char) (acc >> 2);
        break;

    default: /* 1 */
        return XF_ERR_BASE64;
    }

    *dst_len = o;

    return XF_OK;
}


size_t
xf_base64_encode(u_char *dst, const u_char *src, size_t len, unsigned flags)
{
    size_t       i, o;
    uint32_t     acc;
    const char  *t;

    t = (flags & XF_BASE64_URL) ? xf_base64_url : xf_base64_std;
    o = 0;

    for (i = 0; i + 3 <= len; i += 3) {
        acc = (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8
              | src[i + 2];
        dst[o++] = t[acc >> 18];
        dst[o++] = t[(acc >> 12) & 0x3F];
        dst[o++] = t[(acc >> 6) & 0x3F];
        dst[o++] = t[acc & 0x3F];
    }

    if (i < len) {
        acc = (uint32_t) src[i] << 16;

        if (i + 1 < len) {
            acc |= (uint32_t) src[i + 1] << 8;
        }

        dst[o++] = t[acc >> 18];
        dst[o++] = t[(acc >> 12) & 0x3F];

        if (i + 1 < len) {
            dst[o++] = t[(acc >> 6) & 0x3F];
        }

        if (!(flags & XF_BASE64_URL)) {
            while (o % 4 != 0) {
                dst[o++] = '=';
            }
        }
    }

    return o;
}


int32_t
xf_java_string_hash(const u_char *p, size_t len)
{
    size_t    i;
    uint32_t  h;

    /* Unsigned, so that overflow wraps as Java's int does. */

    h = 0;

    for (i = 0; i < len; i++) {
        h = 31 * h + p[i];
    }

    return (int32_t) h;
}
