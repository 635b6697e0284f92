/*
 * xf_decode.c - streaming gzip / deflate / zstd / identity decoder with a
 * hard cap on the decoded size.
 *
 * The codec writes straight into the decoder's output buffer:
 *
 *     buf [ decoded (len) | free (cap - len) ]       cap <= max_out
 *
 * When the buffer is full it doubles (never beyond max_out, so the old
 * buffers left behind by an allocator whose free is a no-op add up to
 * less than the final one).  Once cap == max_out the codec is run into a
 * one-byte scratch instead: any byte landing there means the decoded body
 * is over the cap, and decoding stops at once, so a bomb costs max_out
 * bytes and the CPU to produce them.
 *
 * A gzip or deflate body that is complete in one buffer
 * (xf_decoder_feed_whole) is decoded by libdeflate in one call per gzip
 * member instead, into the same buffer under the same cap: when the
 * output does not fit the buffer grows (doubling, up to max_out) and the
 * member is decoded again; when it does not fit max_out the body is
 * XF_ERR_TOO_LARGE.  Input libdeflate refuses is decoded again by zlib
 * from the start, so that the error (truncated or corrupt, and what was
 * decoded before it) is zlib's, exactly as for a streamed body.
 */

#include <string.h>

#include <libdeflate.h>
#include <zlib.h>

/* ZSTD_createDCtx_advanced (custom allocator) is in the static section
 * of zstd.h but exported by the shared library. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "xf_decode.h"


/* First output buffer for compressed input: this, or 4 times the input
 * so far if larger; a 2.5 KB gzip batch of 50 events (16 KB of JSON)
 * then decodes without regrowing. */
#define XF_DECODE_FIRST_BUF    (16 * 1024)
#define XF_DECODE_RATIO        4

#define XF_ZLIB_CHUNK          ((size_t) 1 << 30)

#define XF_ZSTD_WINDOW_LOG_MAX  23

/* DEFLATE cannot expand input by more than this (258-byte matches in
 * 2-bit codes, about 1032:1): a gzip trailer claiming more is a lie and
 * is not used even as a first guess of the output size. */
#define XF_DEFLATE_MAX_RATIO   1032

/* internal: libdeflate refused the input, decode it again with zlib */
#define XF_DECODE_RETRY        ((xf_status_t) -1)

/*
 * Sum of everything zstd may allocate over the decoder's life.  zstd
 * reallocates its window buffer when a frame declares a larger window (or
 * after a long run of smaller ones); with a pool whose free is a no-op,
 * a body of tiny frames with ever-changing windows could otherwise make
 * it allocate without bound.  One 8 MiB window plus its block buffers
 * is about 8.4 MiB; four of them leave room for honest streams whose
 * frames grow.
 */
#define XF_ZSTD_MEM_MAX        (40 * 1024 * 1024)


struct xf_decoder_s {
    const xf_alloc_t   *alloc;
    xf_encoding_t       enc;
    xf_status_t         status;         /* first error, sticky */

    u_char             *buf;
    size_t              len;
    size_t              cap;
    size_t              max_out;
    u_char              scratch;        /* probe target once cap == max_out */

    size_t              in_total;

    unsigned            inited:1;       /* codec state initialised */
    unsigned            in_stream:1;    /* inside a gzip member */
    unsigned            ended:1;        /* deflate stream ended */
    unsigned            held:1;         /* deflate: hold is set */
    unsigned            zframe:1;       /* zstd is inside a frame */
    unsigned            over_budget:1;  /* zstd hit XF_ZSTD_MEM_MAX */

    /* deflate: the first byte, held until the second one arrives */
    u_char              hold;

    z_stream            zs;

    ZSTD_DCtx          *zd;
    size_t              zmem;           /* all zstd ever allocated */

    /* zstd: the next frame's header, collected until complete */
    size_t              zhlen;
    u_char              zhdr[ZSTD_FRAMEHEADERSIZE_MAX];
};


static xf_status_t xf_decoder_out(xf_decoder_t *d, u_char **out,
    size_t *size);
static xf_status_t xf_decoder_grow(xf_decoder_t *d, size_t need);
static xf_status_t xf_decoder_identity(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_zlib_init(xf_decoder_t *d, int wbits);
static xf_status_t xf_decoder_deflate(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_inflate(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_whole(xf_decoder_t *d, const u_char *p,
    size_t len);
static struct libdeflate_decompressor *xf_libdeflate(void);
static xf_status_t xf_decoder_zstd_init(xf_decoder_t *d);
static xf_status_t xf_decoder_zstd(xf_decoder_t *d, const u_char *p,
    size_t len);
static xf_status_t xf_decoder_zstd_run(xf_decoder_t *d, const u_char *p,
    size_t len, size_t *used);
static xf_status_t xf_zstd_status(xf_decoder_t *d, size_t zrc);
static void *xf_zlib_alloc(void *opaque, u_int items, u_int size);
static void xf_zlib_free(void *opaque, void *p);
static void *xf_zstd_alloc(void *opaque, size_t size);
static void xf_zstd_free(void *opaque, void *p);


static const char  *xf_encoding_names[] = {
    [XF_ENC_IDENTITY] = "identity",
    [XF_ENC_GZIP]     = "gzip",
    [XF_ENC_DEFLATE]  = "deflate",
    [XF_ENC_ZSTD]     = "zstd",
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
    if ((unsigned) enc > XF_ENC_ZSTD) {
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


xf_status_t
xf_decoder_create(xf_decoder_t **dp, xf_encoding_t enc, size_t max_out,
    const xf_alloc_t *a)
{
    xf_status_t    rc;
    xf_decoder_t  *d;

    *dp = NULL;

    if ((unsigned) enc > XF_ENC_ZSTD) {
        return XF_ERR_ENCODING_UNKNOWN;
    }

    d = a->alloc(a->data, sizeof(xf_decoder_t));
    if (d == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(d, 0, sizeof(xf_decoder_t));

    d->alloc = a;
    d->enc = enc;
    d->max_out = max_out;

    /* gzip's zlib state is set up by the first streamed chunk (a whole
     * body may never need it); deflate's once its first two bytes tell
     * zlib from raw */
    switch (enc) {

    case XF_ENC_ZSTD:
        rc = xf_decoder_zstd_init(d);
        break;

    default:
        rc = XF_OK;
        break;
    }

    if (rc != XF_OK) {
        xf_decoder_free(d);
        return rc;
    }

    *dp = d;

    return XF_OK;
}


xf_status_t
xf_decoder_feed(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->status != XF_OK) {
        return d->status;
    }

    if (len == 0) {
        return XF_OK;
    }

    d->in_total += len;

    switch (d->enc) {

    case XF_ENC_GZIP:
        rc = d->inited ? XF_OK : xf_decoder_zlib_init(d, 16 + MAX_WBITS);
        if (rc == XF_OK) {
            rc = xf_decoder_inflate(d, p, len);
        }
        break;

    case XF_ENC_DEFLATE:
        rc = xf_decoder_deflate(d, p, len);
        break;

    case XF_ENC_ZSTD:
        rc = xf_decoder_zstd(d, p, len);
        break;

    default: /* XF_ENC_IDENTITY */
        rc = xf_decoder_identity(d, p, len);
        break;
    }

    d->status = rc;

    return rc;
}


xf_status_t
xf_decoder_feed_whole(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (d->status != XF_OK || d->in_total != 0 || len == 0
        || (d->enc != XF_ENC_GZIP && d->enc != XF_ENC_DEFLATE))
    {
        return xf_decoder_feed(d, p, len);
    }

    d->in_total = len;

    rc = xf_decoder_whole(d, p, len);

    if (rc == XF_DECODE_RETRY) {
        /* zlib from the start: its error, its partial output */
        d->len = 0;
        d->in_total = 0;
        return xf_decoder_feed(d, p, len);
    }

    if (rc == XF_OK && d->enc == XF_ENC_DEFLATE) {
        d->ended = 1;
    }

    d->status = rc;

    return rc;
}


xf_status_t
xf_decoder_finish(xf_decoder_t *d, const u_char **out, size_t *out_len)
{
    if (d->status != XF_OK) {
        return d->status;
    }

    switch (d->enc) {

    case XF_ENC_GZIP:
        if (d->in_total == 0 || d->in_stream) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    case XF_ENC_DEFLATE:
        if (!d->ended) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    case XF_ENC_ZSTD:
        if (d->in_total == 0 || d->zframe || d->zhlen > 0) {
            d->status = XF_ERR_TRUNCATED;
        }
        break;

    default: /* XF_ENC_IDENTITY */
        break;
    }

    if (d->status != XF_OK) {
        return d->status;
    }

    *out = d->buf != NULL ? d->buf : (const u_char *) "";
    *out_len = d->len;

    return XF_OK;
}


size_t
xf_decoder_size(const xf_decoder_t *d)
{
    return d->len;
}


const u_char *
xf_decoder_data(const xf_decoder_t *d)
{
    return d->buf ? d->buf : (const u_char *) "";
}


void
xf_decoder_free(xf_decoder_t *d)
{
    const xf_alloc_t  *a;

    if (d == NULL) {
        return;
    }

    a = d->alloc;

    if (d->inited && d->enc != XF_ENC_ZSTD) {
        inflateEnd(&d->zs);
    }

    if (d->zd != NULL) {
        ZSTD_freeDCtx(d->zd);
    }

    if (d->buf != NULL) {
        a->free(a->data, d->buf);
    }

    a->free(a->data, d);
}


xf_status_t
xf_decode(xf_encoding_t enc, const u_char *p, size_t len, size_t max_out,
    const xf_alloc_t *a, u_char **out, size_t *out_len)
{
    size_t         n;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *res;

    rc = xf_decoder_create(&d, enc, max_out, a);
    if (rc != XF_OK) {
        return rc;
    }

    rc = xf_decoder_feed_whole(d, p, len);

    if (rc == XF_OK) {
        rc = xf_decoder_finish(d, &res, &n);
    }

    if (rc != XF_OK) {
        xf_decoder_free(d);
        return rc;
    }

    /* an empty result still gets its own allocation: the caller frees
     * *out, and free is never called with NULL */
    if (d->buf == NULL) {
        d->buf = a->alloc(a->data, 1);
        if (d->buf == NULL) {
            xf_decoder_free(d);
            return XF_ERR_NOMEM;
        }
    }

    /* hand the buffer over instead of copying it */
    *out = d->buf;
    *out_len = d->len;
    d->buf = NULL;

    xf_decoder_free(d);

    return XF_OK;
}


/*
 * Where the codec may write next: the free tail of buf, growing it when
 * full, or the scratch byte once buf has reached max_out.
 */

static xf_status_t
xf_decoder_out(xf_decoder_t *d, u_char **out, size_t *size)
{
    xf_status_t  rc;

    if (d->len == d->cap) {
        if (d->cap == d->max_out) {
            *out = &d->scratch;
            *size = 1;
            return XF_OK;
        }

        rc = xf_decoder_grow(d, d->len + 1);
        if (rc != XF_OK) {
            return rc;
        }
    }

    *out = d->buf + d->len;
    *size = d->cap - d->len;

    return XF_OK;
}


/* need <= max_out */

static xf_status_t
xf_decoder_grow(xf_decoder_t *d, size_t need)
{
    size_t             size;
    u_char            *buf;
    const xf_alloc_t  *a;

    if (d->cap > 0) {
        size = d->cap > d->max_out / 2 ? d->max_out : d->cap * 2;

    } else if (d->enc == XF_ENC_IDENTITY) {
        size = need;

    } else {
        size = XF_DECODE_FIRST_BUF;

        if (d->in_total > size / XF_DECODE_RATIO) {
            size = d->in_total > d->max_out / XF_DECODE_RATIO
                   ? d->max_out : d->in_total * XF_DECODE_RATIO;
        }
    }

    if (size < need) {
        size = need;
    }

    size = xf_min(size, d->max_out);

    a = d->alloc;

    buf = a->alloc(a->data, size);
    if (buf == NULL) {
        return XF_ERR_NOMEM;
    }

    if (d->buf != NULL) {
        memcpy(buf, d->buf, d->len);
        a->free(a->data, d->buf);
    }

    d->buf = buf;
    d->cap = size;

    return XF_OK;
}


static xf_status_t
xf_decoder_identity(xf_decoder_t *d, const u_char *p, size_t len)
{
    xf_status_t  rc;

    if (len > d->max_out - d->len) {
        return XF_ERR_TOO_LARGE;
    }

    if (len > d->cap - d->len) {
        rc = xf_decoder_grow(d, d->len + len);
        if (rc != XF_OK) {
            return rc;
        }
    }

    memcpy(d->buf + d->len, p, len);
    d->len += len;

    return XF_OK;
}


static xf_status_t
xf_decoder_zlib_init(xf_decoder_t *d, int wbits)
{
    int  rc;

    d->zs.zalloc = xf_zlib_alloc;
    d->zs.zfree = xf_zlib_free;
    d->zs.opaque = d;

    rc = inflateInit2(&d->zs, wbits);

    if (rc == Z_MEM_ERROR) {
        return XF_ERR_NOMEM;
    }

    if (rc != Z_OK) {
        return XF_ERR_CORRUPT;
    }

    d->inited = 1;

    return XF_OK;
}


/*
 * "deflate" is meant to be zlib-wrapped (RFC 9110) but some clients send
 * raw deflate.  A zlib header (method 8, header checksum a multiple of 31)
 * decides; a raw stream could only look like one if it began with a
 * non-final stored block with non-zero padding bits, which encoders do
 * not write.
 */

static xf_status_t
xf_decoder_deflate(xf_decoder_t *d, const u_char *p, size_t len)
{
    u_char       cmf, flg;
    xf_status_t  rc;

    if (!d->inited) {
        if (!d->held && len == 1) {
            d->hold = p[0];
            d->held = 1;
            return XF_OK;
        }

        cmf = d->held ? d->hold : p[0];
        flg = d->held ? p[0] : p[1];

        rc = xf_decoder_zlib_init(d,
                 ((cmf & 0x0f) == 8 && ((cmf << 8) | flg) % 31 == 0)
                 ? MAX_WBITS : -MAX_WBITS);
        if (rc != XF_OK) {
            return rc;
        }

        if (d->held) {
            d->held = 0;

            rc = xf_decoder_inflate(d, &d->hold, 1);
            if (rc != XF_OK) {
                return rc;
            }
        }
    }

    return xf_decoder_inflate(d, p, len);
}


/*
 * Z_FINISH on every call: if the stream completes within the call, zlib
 * skips allocating and filling its 32 KB window; if not, it carries on
 * as with Z_NO_FLUSH, reporting Z_BUF_ERROR instead of Z_OK.
 */

static xf_status_t
xf_decoder_inflate(xf_decoder_t *d, const u_char *p, size_t len)
{
    int          zrc;
    size_t       size, produced;
    u_char      *out;
    xf_status_t  rc;

    if (d->ended) {
        /* bytes after the end of a deflate stream */
        return XF_ERR_CORRUPT;
    }

    /* avail_in and avail_out are uInt; XF_ZLIB_CHUNK fits both */
    d->zs.next_in = (u_char *) p;
    d->zs.avail_in = xf_min(len, XF_ZLIB_CHUNK);
    len -= d->zs.avail_in;

    for ( ;; ) {

        if (d->zs.avail_in == 0 && len > 0) {
            d->zs.avail_in = xf_min(len, XF_ZLIB_CHUNK);
            len -= d->zs.avail_in;
        }

        if (d->enc == XF_ENC_GZIP && !d->in_stream) {
            /*
             * A new gzip member; the previous one's state is reused.
             * zlib checks the magic once it has both bytes: checking the
             * first here makes one stray byte after a member corrupt
             * rather than a truncated member.
             */
            if (*d->zs.next_in != 0x1f || inflateReset(&d->zs) != Z_OK) {
                return XF_ERR_CORRUPT;
            }

            d->in_stream = 1;
        }

        rc = xf_decoder_out(d, &out, &size);
        if (rc != XF_OK) {
            return rc;
        }

        size = xf_min(size, XF_ZLIB_CHUNK);

        d->zs.next_out = out;
        d->zs.avail_out = size;

        zrc = inflate(&d->zs, Z_FINISH);

        produced = size - d->zs.avail_out;

        if (produced > 0) {
            if (out == &d->scratch) {
                return XF_ERR_TOO_LARGE;
            }

            d->len += produced;
        }

        switch (zrc) {

        case Z_STREAM_END:
            if (d->enc == XF_ENC_GZIP) {
                d->in_stream = 0;

                if (d->zs.avail_in == 0 && len == 0) {
                    return XF_OK;
                }

                continue;
            }

            d->ended = 1;

            return (d->zs.avail_in == 0 && len == 0) ? XF_OK
                                                      : XF_ERR_CORRUPT;

        case Z_OK:
        case Z_BUF_ERROR:
            break;

        case Z_MEM_ERROR:
            return XF_ERR_NOMEM;

        default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            return XF_ERR_CORRUPT;
        }

        /* the stream goes on: wait for input, unless the output space ran
         * out (zlib may hold more output, e.g. the rest of a match) */
        if (d->zs.avail_in == 0 && len == 0 && d->zs.avail_out > 0) {
            return XF_OK;
        }
    }
}


/*
 * libdeflate over a complete body: each gzip member (or the one deflate
 * stream) in one call, straight into buf.  XF_DECODE_RETRY for anything
 * libdeflate refuses, and for a gzip header with a header CRC (FHCRC),
 * which zlib checks and libdeflate does not.
 */

static xf_status_t
xf_decoder_whole(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t                           used, produced, hint;
    xf_status_t                      rc;
    enum libdeflate_result           r;
    struct libdeflate_decompressor  *ld;

    ld = xf_libdeflate();
    if (ld == NULL) {
        return XF_DECODE_RETRY;
    }

    if (d->enc == XF_ENC_GZIP && len >= 18) {
        /* the last member's size, as a first guess only: lies cost a
         * regrowth, and what is believed is capped twice */
        hint = (size_t) p[len - 4] | (size_t) p[len - 3] << 8
               | (size_t) p[len - 2] << 16 | (size_t) p[len - 1] << 24;

        if (hint > XF_DECODE_FIRST_BUF && hint <= d->max_out
            && hint / XF_DEFLATE_MAX_RATIO <= len)
        {
            rc = xf_decoder_grow(d, hint);
            if (rc != XF_OK) {
                return rc;
            }
        }
    }

    for ( ;; ) {

        if (d->cap == 0 || (d->cap == d->len && d->cap < d->max_out)) {
            rc = xf_decoder_grow(d, d->len + 1);
            if (rc != XF_OK) {
                return rc;
            }
        }

        used = 0;
        produced = 0;

        if (d->enc == XF_ENC_GZIP) {
            if (p[0] != 0x1f) {
                /* a stray byte after a member, as zlib sees it */
                return XF_ERR_CORRUPT;
            }

            if (len < 4 || (p[3] & 0x02)) {
                return XF_DECODE_RETRY;
            }

            r = libdeflate_gzip_decompress_ex(ld, p, len, d->buf + d->len,
                                              d->cap - d->len, &used,
                                              &produced);

        } else if (len >= 2 && (p[0] & 0x0f) == 8
                   && ((p[0] << 8) | p[1]) % 31 == 0)
        {
            /* zlib-wrapped, decided as xf_decoder_deflate does */
            r = libdeflate_zlib_decompress_ex(ld, p, len, d->buf + d->len,
                                              d->cap - d->len, &used,
                                              &produced);

        } else {
            /*
             * Raw deflate has no checksum, and libdeflate accepts some
             * streams zlib calls corrupt (invalid codes in a fixed-Huffman
             * block): zlib decides those, so that a body gets one answer
             * however it arrived.
             */
            return XF_DECODE_RETRY;
        }

        switch (r) {

        case LIBDEFLATE_SUCCESS:
            d->len += produced;
            p += used;
            len -= used;

            if (len == 0) {
                return XF_OK;
            }

            if (d->enc == XF_ENC_GZIP) {
                /* the next member */
                continue;
            }

            /* bytes after the end of a deflate stream */
            return XF_ERR_CORRUPT;

        case LIBDEFLATE_INSUFFICIENT_SPACE:
            if (d->cap == d->max_out) {
                return XF_ERR_TOO_LARGE;
            }

            /* a bigger buffer, then this member again */
            rc = xf_decoder_grow(d, d->cap + 1);
            if (rc != XF_OK) {
                return rc;
            }

            continue;

        default: /* LIBDEFLATE_BAD_DATA */
            return XF_DECODE_RETRY;
        }
    }
}


/*
 * One decompressor per process, made on first use and kept until
 * xf_decode_shutdown(): it is ~32 KB of tables rebuilt for every block
 * anyway, holds no state between calls, and nginx workers run the core
 * on one thread.
 */

static struct libdeflate_decompressor  *xf_libdeflate_ld;

static struct libdeflate_decompressor *
xf_libdeflate(void)
{
    if (xf_libdeflate_ld == NULL) {
        xf_libdeflate_ld = libdeflate_alloc_decompressor();
    }

    return xf_libdeflate_ld;
}


void
xf_decode_shutdown(void)
{
    if (xf_libdeflate_ld != NULL) {
        libdeflate_free_decompressor(xf_libdeflate_ld);
        xf_libdeflate_ld = NULL;
    }
}


static xf_status_t
xf_decoder_zstd_init(xf_decoder_t *d)
{
    size_t           zrc;
    ZSTD_customMem   mem;

    mem.customAlloc = xf_zstd_alloc;
    mem.customFree = xf_zstd_free;
    mem.opaque = d;

    d->zd = ZSTD_createDCtx_advanced(mem);
    if (d->zd == NULL) {
        return XF_ERR_NOMEM;
    }

    zrc = ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax,
                                 XF_ZSTD_WINDOW_LOG_MAX);
    if (ZSTD_isError(zrc)) {
        return XF_ERR_NOMEM;
    }

    d->inited = 1;

    return XF_OK;
}


/*
 * Each frame's header is collected here and checked with
 * ZSTD_getFrameHeader before zstd sees it, then handed over whole.  A
 * header zstd cannot parse would otherwise make it try the legacy
 * (v0.1-v0.7) formats on whatever bytes the current chunk starts with:
 * old code that allocates with malloc, not through a, and behaves
 * differently depending on where the body was split.  Handing the header
 * over alone also keeps zstd off its one-pass shortcut for a frame that
 * arrives whole, so every split decodes the same way.
 */

static xf_status_t
xf_decoder_zstd(xf_decoder_t *d, const u_char *p, size_t len)
{
    size_t              n, want;
    xf_status_t         rc;
    ZSTD_frameHeader    fh;

    while (len > 0) {

        if (!d->zframe) {
            want = ZSTD_getFrameHeader(&fh, d->zhdr, d->zhlen);

            while (want != 0 && !ZSTD_isError(want)) {
                if (want > sizeof(d->zhdr)) {
                    return XF_ERR_CORRUPT;
                }

                if (len == 0) {
                    return XF_OK;
                }

                n = xf_min(want - d->zhlen, len);
                memcpy(d->zhdr + d->zhlen, p, n);
                d->zhlen += n;
                p += n;
                len -= n;

                want = ZSTD_getFrameHeader(&fh, d->zhdr, d->zhlen);
            }

            if (ZSTD_isError(want)) {
                return xf_zstd_status(d, want);
            }

            d->zframe = 1;

            rc = xf_decoder_zstd_run(d, d->zhdr, d->zhlen, &n);
            d->zhlen = 0;

            if (rc != XF_OK) {
                return rc;
            }

            continue;
        }

        rc = xf_decoder_zstd_run(d, p, len, &n);
        if (rc != XF_OK) {
            return rc;
        }

        p += n;
        len -= n;
    }

    return XF_OK;
}


/*
 * Decode from p until it is used up or the current frame ends (then
 * *used tells how far it got and the next byte starts a new frame).
 */

static xf_status_t
xf_decoder_zstd_run(xf_decoder_t *d, const u_char *p, size_t len,
    size_t *used)
{
    size_t           zrc, size;
    u_char          *dst;
    xf_status_t      rc;
    ZSTD_inBuffer    in;
    ZSTD_outBuffer   out;

    in.src = p;
    in.size = len;
    in.pos = 0;

    for ( ;; ) {
        rc = xf_decoder_out(d, &dst, &size);
        if (rc != XF_OK) {
            return rc;
        }

        out.dst = dst;
        out.size = size;
        out.pos = 0;

        zrc = ZSTD_decompressStream(d->zd, &out, &in);

        if (ZSTD_isError(zrc)) {
            return xf_zstd_status(d, zrc);
        }

        if (out.pos > 0) {
            if (out.dst == &d->scratch) {
                return XF_ERR_TOO_LARGE;
            }

            d->len += out.pos;
        }

        *used = in.pos;

        /* 0: the frame is decoded and flushed */
        if (zrc == 0) {
            d->zframe = 0;
            return XF_OK;
        }

        /* output space left over means zstd flushed all it had; a full
         * output buffer may leave decoded bytes inside zstd */
        if (in.pos == in.size && out.pos < out.size) {
            return XF_OK;
        }
    }
}


static xf_status_t
xf_zstd_status(xf_decoder_t *d, size_t zrc)
{
    switch (ZSTD_getErrorCode(zrc)) {

    case ZSTD_error_memory_allocation:
        return d->over_budget ? XF_ERR_TOO_LARGE : XF_ERR_NOMEM;

    case ZSTD_error_frameParameter_windowTooLarge:
        return XF_ERR_TOO_LARGE;

    default:
        return XF_ERR_CORRUPT;
    }
}


static void *
xf_zlib_alloc(void *opaque, u_int items, u_int size)
{
    xf_decoder_t  *d = opaque;

    if (size != 0 && items > SIZE_MAX / size) {
        return NULL;
    }

    return d->alloc->alloc(d->alloc->data, (size_t) items * size);
}


static void
xf_zlib_free(void *opaque, void *p)
{
    xf_decoder_t  *d = opaque;

    if (p != NULL) {
        d->alloc->free(d->alloc->data, p);
    }
}


static void *
xf_zstd_alloc(void *opaque, size_t size)
{
    xf_decoder_t  *d = opaque;

    if (size > XF_ZSTD_MEM_MAX - d->zmem) {
        d->over_budget = 1;
        return NULL;
    }

    d->zmem += size;

    return d->alloc->alloc(d->alloc->data, size);
}


static void
xf_zstd_free(void *opaque, void *p)
{
    xf_decoder_t  *d = opaque;

    if (p != NULL) {
        d->alloc->free(d->alloc->data, p);
    }
}
