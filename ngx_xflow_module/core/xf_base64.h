/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_base64.h - base64 (RFC 4648) as the SDKs send it, and the Java
 * string hash Sensors Data uses as a checksum of its base64 text.
 *
 * Decoding is strict where a sender has no excuse and lenient where real
 * SDKs differ:
 *   - the standard ("+/") and the URL-safe ("-_") alphabets, chosen by
 *     flags; with both flags a string may mix them;
 *   - padding is optional, but padding that is there must be right: only
 *     at the end, and exactly what completes the last 4-character group;
 *   - CR and LF are skipped anywhere (Android's Base64.DEFAULT wraps lines
 *     at 76 characters); any other byte outside the alphabet, spaces and
 *     NUL included, is XF_ERR_BASE64;
 *   - a lone last character (length 1 mod 4) and non-zero bits left over
 *     in the last character are XF_ERR_BASE64, so a decodable string has
 *     exactly one canonical encoding of its bytes.
 */

#ifndef XF_BASE64_H
#define XF_BASE64_H

#include "xf_core.h"


#define XF_BASE64_STD   0x01        /* '+' and '/' */
#define XF_BASE64_URL   0x02        /* '-' and '_' */
#define XF_BASE64_ANY   (XF_BASE64_STD | XF_BASE64_URL)


/* Bytes the decoding of len characters can produce, at most. */
#define xf_base64_decoded_bound(len)  ((len) / 4 * 3 + 2)

/* Characters of the padded encoding of len bytes. */
#define xf_base64_encoded_len(len)    (((len) + 2) / 3 * 4)


/*
 * Decode src (len characters) into dst, which has room for
 * xf_base64_decoded_bound(len) bytes; dst may be src itself (the output
 * never overtakes the input).  flags is XF_BASE64_STD, XF_BASE64_URL or
 * both.  Returns XF_OK and the decoded length in *dst_len, or
 * XF_ERR_BASE64 (then dst holds garbage).  Empty input decodes to 0
 * bytes.
 */
xf_status_t xf_base64_decode(const u_char *src, size_t len, unsigned flags,
    u_char *dst, size_t *dst_len);

/*
 * Encode src into dst, which has room for xf_base64_encoded_len(len)
 * bytes: the standard alphabet with padding, or with XF_BASE64_URL the
 * URL-safe alphabet without padding.  Returns the number of characters
 * written.
 */
size_t xf_base64_encode(u_char *dst, const u_char *src, size_t len,
    unsigned flags);

/*
 * Java's String.hashCode() of a text: h = 31 * h + c over its UTF-16
 * code units, in signed 32-bit arithmetic that wraps.  The bytes are
 * taken as Latin-1 characters, one code unit each, which is exact for the
 * ASCII texts it is used on (base64); a non-ASCII text gives a value Java
 * would not.
 */
int32_t xf_java_string_hash(const u_char *p, size_t len);

#endif /* XF_BASE64_H */
