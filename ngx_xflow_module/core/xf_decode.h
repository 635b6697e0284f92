/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_decode.h - streaming decoding of request bodies: gzip (one or more
 * members), deflate (zlib-wrapped or raw), zstd (one or more frames),
 * brotli (one stream).
 *
 * The decoded size is capped while inflating, chunk by chunk: a size
 * field in a trailer or frame header is never trusted, so a bomb costs at
 * most max_out bytes of memory (plus the codec's fixed window) and ends
 * in XF_ERR_TOO_LARGE.
 */

#ifndef XF_DECODE_H
#define XF_DECODE_H

#include "xf_core.h"


typedef enum {
    XF_ENC_IDENTITY = 0,
    XF_ENC_GZIP,
    XF_ENC_DEFLATE,
    XF_ENC_ZSTD,
    XF_ENC_BR
} xf_encoding_t;


/*
 * Parse a Content-Encoding header value: "gzip", "x-gzip", "deflate",
 * "zstd", "br", "identity" or empty (case-insensitive, surrounding spaces
 * ignored).  Anything else, stacked codings included, is
 * XF_ERR_ENCODING_UNKNOWN.
 */
xf_status_t xf_encoding_parse(const u_char *p, size_t len,
    xf_encoding_t *enc);

/* "identity", "gzip", "deflate", "zstd", "br". */
const char *xf_encoding_name(xf_encoding_t enc);

/*
 * Recognise a compressed body by its magic bytes: 1f 8b 08 (gzip magic
 * and its only method, deflate) is gzip, 28 b5 2f fd is zstd; anything
 * else is XF_ENC_IDENTITY.  Used when a client sends compressed bytes
 * without saying so.  Brotli has no magic: it is never sniffed.  Needs
 * at most the first 4 bytes; fewer is fine (then no magic is
 * recognised).
 */
xf_encoding_t xf_encoding_sniff(const u_char *p, size_t len);


/*
 * A gzip or deflate body of at most this many compressed bytes is held
 * and decoded whole, by libdeflate, when its end is known; a larger one
 * is decoded by zlib as it streams.  Which decoder answers depends on
 * the body's size alone, never on the pieces it arrives in: libdeflate
 * accepts some streams zlib refuses.
 */
#define XF_DECODE_WHOLE_MAX  (64 * 1024)


typedef struct xf_decoder_s  xf_decoder_t;

/*
 * Create a decoder for enc whose output may not exceed max_out bytes.
 * XF_ENC_IDENTITY copies its input (under the same cap).  The codec's
 * memory and the output buffer come from a; xf_decoder_free returns them.
 * zstd's window is limited to 8 MiB (windowLogMax 23), and all zstd ever
 * allocates for one decoder to 40 MiB (counted as allocated, since free
 * may be a no-op).  Brotli's window is its format's largest, 16 MiB
 * (large windows are refused), and all it allocates for one decoder is
 * limited the same way, with no single block over twice max_out (its
 * ring buffer never needs more than the output it holds).  Returns
 * XF_OK, XF_ERR_NOMEM, or
 * XF_ERR_ENCODING_UNKNOWN for a value outside xf_encoding_t.
 */
xf_status_t xf_decoder_create(xf_decoder_t **d, xf_encoding_t enc,
    size_t max_out, const xf_alloc_t *a);

/*
 * Lower the largest zstd window d accepts to the largest power of two
 * not over window (at least 1 KiB, at most the 8 MiB default); call
 * before the first feed.  zstd allocates a frame's whole window when it
 * reads the frame header, so this is what a few header bytes can cost.
 * For brotli, the largest ring buffer (its window, as far as the stream
 * declares output to fill it) becomes window (at most 16 MiB); a stream
 * that needs more is XF_ERR_TOO_LARGE.  A no-op for the other
 * encodings.  Returns XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_decoder_set_window_max(xf_decoder_t *d, size_t window);

/*
 * Feed the next chunk of the encoded body.  Decoded bytes are appended to
 * the decoder's output buffer, which grows geometrically up to max_out.
 * gzip and deflate are only held (a copy, from the allocator) until the
 * body passes XF_DECODE_WHOLE_MAX bytes, and then decoded by zlib from
 * the start; a smaller body is decoded by xf_decoder_finish (a gzip body
 * whose first bytes are no gzip header is refused at once all the same).
 * Returns XF_OK, XF_ERR_TOO_LARGE, XF_ERR_CORRUPT or XF_ERR_NOMEM; after
 * an error the decoder accepts nothing more and returns that error again.
 * XF_ERR_TOO_LARGE also covers a zstd frame that needs a window over
 * 8 MiB, and a zstd or brotli stream that needs more memory than the
 * limits above.  Bytes after the end of a gzip member or zstd frame
 * start the next one; anything after a deflate or brotli stream's end,
 * or garbage after a gzip member, is XF_ERR_CORRUPT.
 * "deflate" is zlib-wrapped when its first two bytes are a valid zlib
 * header, raw deflate otherwise.
 */
xf_status_t xf_decoder_feed(xf_decoder_t *d, const u_char *p, size_t len);

/*
 * Feed a body that is complete in p[0..len), as the decoder's first and
 * only input (then xf_decoder_finish as usual).  The result, the cap and
 * the errors are those of xf_decoder_feed and xf_decoder_finish with the
 * same bytes, in any pieces.  gzip and deflate of at most
 * XF_DECODE_WHOLE_MAX bytes are decoded at once without a copy, by
 * libdeflate in one call per gzip member (about twice as fast as zlib's
 * streaming inflate); anything libdeflate refuses is decoded again by
 * zlib, so truncated and corrupt input give zlib's error (and decoded
 * prefix).  Input fed after it is XF_ERR_CORRUPT.  After any other
 * input, over XF_DECODE_WHOLE_MAX, for identity and for zstd, this is
 * xf_decoder_feed.
 */
xf_status_t xf_decoder_feed_whole(xf_decoder_t *d, const u_char *p,
    size_t len);

/*
 * Declare the end of input, and decode a gzip or deflate body held
 * until now (see xf_decoder_feed): its errors, XF_ERR_TOO_LARGE
 * included, may come from here.  XF_ERR_TRUNCATED if the stream (the last
 * gzip member, zstd frame, deflate or brotli stream) is incomplete,
 * including an empty compressed body; an earlier feed's error is returned
 * again.  On XF_OK, *out and *out_len give the decoded bytes, owned by the
 * decoder until xf_decoder_free (*out is never NULL, even for 0 bytes).
 */
xf_status_t xf_decoder_finish(xf_decoder_t *d, const u_char **out,
    size_t *out_len);

/* Bytes decoded so far. */
size_t xf_decoder_size(const xf_decoder_t *d);

/*
 * The xf_decoder_size() bytes decoded so far, valid even after an error
 * (never NULL): what a request that failed to decode did carry, for the
 * dead-letter topic.
 */
const u_char *xf_decoder_data(const xf_decoder_t *d);

/* Free the decoder and all it holds, with its allocator; NULL is fine. */
void xf_decoder_free(xf_decoder_t *d);

/*
 * Free what the decoders keep for the whole process (the libdeflate
 * decompressor).  Call at process exit: nginx unloads the module before
 * the process ends, so memory only a module's static holds would leak.
 * Decoding after it works and allocates again.
 */
void xf_decode_shutdown(void);

/*
 * One-shot convenience: decode a whole buffer (xf_decoder_feed_whole,
 * then xf_decoder_finish).  On XF_OK, *out is
 * allocated with a (free with a->free; the decoder's own buffer, handed
 * over without a copy) and holds *out_len bytes; an empty result is a
 * 1-byte allocation, never NULL.  Other returns are as for
 * xf_decoder_create, xf_decoder_feed and xf_decoder_finish.
 */
xf_status_t xf_decode(xf_encoding_t enc, const u_char *p, size_t len,
    size_t max_out, const xf_alloc_t *a, u_char **out, size_t *out_len);

#endif /* XF_DECODE_H */
