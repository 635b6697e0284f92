/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_core.h - what every unit of the xflow core shares: the status enum,
 * the allocator interface and the byte type.
 *
 * The core is pure C: no nginx headers, no logging, no clock, no globals.
 * The nginx glue passes the request pool as the allocator and the current
 * time as an argument; tests pass libc's malloc.
 */

#ifndef XF_CORE_H
#define XF_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>      /* u_char */


typedef enum {
    XF_OK = 0,
    XF_ERR_NOMEM,
    XF_ERR_JSON_SYNTAX,         /* not RFC 8259 JSON */
    XF_ERR_JSON_UTF8,           /* invalid UTF-8, overlong, lone surrogate */
    XF_ERR_JSON_DEPTH,          /* nesting deeper than the limit */
    XF_ERR_EMPTY,               /* no event in the upload */
    XF_ERR_TOO_MANY_EVENTS,     /* more events than the per-request limit */
    XF_ERR_EVENT_TOO_LARGE,     /* one event over the per-event limit */
    XF_ERR_NOT_OBJECT,          /* an event that is not a JSON object */
    XF_ERR_TOO_LARGE,           /* decoded bytes over the cap */
    XF_ERR_ENCODING_UNKNOWN,    /* Content-Encoding we do not decode */
    XF_ERR_CORRUPT,             /* compressed stream is corrupt */
    XF_ERR_TRUNCATED,           /* compressed stream ended early */
    XF_ERR_BUFFER,              /* caller's output buffer too small */
    XF_ERR_BASE64,              /* bad base64 */
    XF_ERR_FORM,                /* bad form / percent-encoding */
    XF_ERR_MISSING_FIELD,       /* an event lacks what its format needs */
    XF_ERR_CRC,                 /* a checksum the SDK sent does not match */
    XF_ERR_ENCRYPTED,           /* an encrypted payload we cannot read */
    XF_ERR_PLAN_UNKNOWN,        /* an event the tracking plan lacks */
    XF_ERR_PLAN_INVALID,        /* an event that fails the plan */
    XF_ERR_KILLED,              /* an event a kill switch dead-letters */
    XF_STATUS_MAX
} xf_status_t;


/*
 * A stable snake_case code for a status ("json_syntax", "too_large", ...),
 * used in JSON error bodies, dead-letter reasons and metric labels.
 * Never NULL.
 */
const char *xf_strerror(xf_status_t s);


/*
 * Allocator handed to the core by its caller.  alloc returns NULL on
 * failure; free may be a no-op (a pool frees everything at once) and is
 * never called with NULL.
 */
typedef struct {
    void   *(*alloc)(void *data, size_t size);
    void    (*free)(void *data, void *p);
    void     *data;
} xf_alloc_t;


/*
 * Text a renderer writes (the metrics page, the ledger, the catalog),
 * grown with the caller's allocator (xf_reserve() in xf_realloc.h); p is
 * the caller's to free.
 */
typedef struct {
    u_char         *p;
    size_t          len;
    size_t          cap;
} xf_buf_t;

/* malloc/free, for tests and tools. */
extern const xf_alloc_t  xf_alloc_libc;


#define xf_min(a, b)  ((a) < (b) ? (a) : (b))


/*
 * How many of the len bytes at p to keep in max bytes: never half a
 * UTF-8 sequence (a label or a name cut to fit stays valid UTF-8).
 */
static inline size_t
xf_utf8_cut(const unsigned char *p, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }

    while (max > 0 && (p[max] & 0xc0) == 0x80) {
        max--;
    }

    return max;
}

#endif /* XF_CORE_H */
