/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode_encoding.c - Content-Encoding values: parsing the header,
 * naming an encoding, and recognising a compressed body by its magic
 * bytes when the client did not say.
 */

#include "xf_decode_impl.h"


static const char  *xf_encoding_names[] = {
    [XF_ENC_IDENTITY] = "identity",
    [XF_ENC_GZIP]     = "gzip",
    [XF_ENC_DEFLATE]  = "deflate",
    [XF_ENC_ZSTD]     = "zstd",
    [XF_ENC_BR]       = "br",
};


static const struct {
    const char     *name;
    size_t          len;
    xf_encoding_t   enc;
} xf_encoding_tokens[] = {
    { "gzip",     4, XF_ENC_GZIP },
    { "x-gzip",   6, XF_ENC_GZIP },
    { "deflate",  7, XF_ENC_DEFLATE },
    { "zstd",     4, XF_ENC_ZSTD },
    { "br",       2, XF_ENC_BR },
    { "identity", 8, XF_ENC_IDENTITY },
};


xf_status_t
xf_encoding_parse(const u_char *p, size_t len, xf_encoding_t *enc)
{
    size_t  i, j;
    u_char  c;

    while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
        p++;
        len--;
    }

    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    if (len == 0) {
        *enc = XF_ENC_IDENTITY;
        return XF_OK;
    }

    for (i = 0; i < sizeof(xf_encoding_tokens) / sizeof(xf_encoding_tokens[0]);
         i++)
    {
        if (xf_encoding_tokens[i].len != len) {
            continue;
        }

        for (j = 0; j < len; j++) {
            c = p[j];

            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }

            if (c != (u_char) xf_encoding_tokens[i].name[j]) {
                break;
            }
        }

        if (j == len) {
            *enc = xf_encoding_tokens[i].enc;
            return XF_OK;
        }
    }

    return XF_ERR_ENCODING_UNKNOWN;
}


const char *
xf_encoding_name(xf_encoding_t enc)
{
    if ((unsigned) enc > XF_ENC_BR) {
        return "unknown";
    }

    return xf_encoding_names[enc];
}


xf_encoding_t
xf_encoding_sniff(const u_char *p, size_t len)
{
    /* the third gzip byte is the method, always 8 (deflate): checking it
     * makes a false positive on a plain body less likely */
    if (len >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 0x08) {
        return XF_ENC_GZIP;
    }

    if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f
        && p[3] == 0xfd)
    {
        return XF_ENC_ZSTD;
    }

    return XF_ENC_IDENTITY;
}
