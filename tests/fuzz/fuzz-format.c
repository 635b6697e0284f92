/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-format.c - libFuzzer target for xf_format_parse.
 *
 * Input: one selector byte, then the request's bytes.  The selector's low
 * 4 bits and bit 5 pick a row of fuzz_routes, modulo its length (format,
 * method, path, query; rows 16 and up are the Mixpanel and Amplitude
 * routes); for rows marked "query" the rest of the input is the query
 * string and the body is empty, otherwise it is the body.  Bit 4 selects
 * tight limits (small events, few events, a small decoded budget,
 * shallow nesting) so that every limit is reached often.
 *
 * Invariant: no crash, no undefined behaviour, no leak (everything is
 * returned by xf_format_free); every event's bytes lie within the input
 * or within memory the allocator handed out and has not taken back;
 * an event with XF_OK is one valid JSON object, exactly its bytes
 * (xf_json_scan_value agrees); body + upload.decoded <= max_decoded
 * (a body over max_decoded alone is XF_ERR_TOO_LARGE, nothing decoded);
 * n <= max_events; rejected counts the events with an error; a config
 * reply has no event.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_format.h"
#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    xf_format_t   format;
    xf_method_t   method;
    const char   *path;
    const char   *query;            /* NULL: the input is the query */
} fuzz_route_t;


static const fuzz_route_t  fuzz_routes[] = {
    { XF_FMT_JSON, XF_METHOD_POST, "/collect", "app=a" },
    { XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "project=p" },
    { XF_FMT_SENSORS, XF_METHOD_GET, "/sa.gif", NULL },
    { XF_FMT_POSTHOG, XF_METHOD_POST, "/e/", "ip=1&_=1" },
    { XF_FMT_POSTHOG, XF_METHOD_POST, "/e/", "compression=base64" },
    { XF_FMT_POSTHOG, XF_METHOD_POST, "/flags/", "v=2" },
    { XF_FMT_POSTHOG, XF_METHOD_GET, "/array/phc_x/config.js", NULL },
    { XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/batch", "" },
    { XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/t", "" },
    { XF_FMT_SNOWPLOW, XF_METHOD_POST, "/com.snowplowanalytics.snowplow/tp2",
      "" },
    { XF_FMT_SNOWPLOW, XF_METHOD_GET, "/i", NULL },
    { XF_FMT_AUTO, XF_METHOD_POST, "/x", "" },
    { XF_FMT_AUTO, XF_METHOD_GET, "/x", NULL },
    { XF_FMT_AUTO, XF_METHOD_POST, "/sa.gif", "project=default" },
    { XF_FMT_AUTO, XF_METHOD_POST, "/beacon/v1/batch", "writeKey=k" },
    { XF_FMT_AUTO, XF_METHOD_POST, "/i/v0/e/", "compression=gzip-js" },

    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/track/", "verbose=1&ip=1&_=1" },
    { XF_FMT_MIXPANEL, XF_METHOD_GET, "/track/", NULL },
    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/engage/", "ip=0" },
    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/groups/", "token=t" },
    { XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "" },
    { XF_FMT_AMPLITUDE, XF_METHOD_POST, "/batch", "" },
    { XF_FMT_AUTO, XF_METHOD_POST, "/2/httpapi", "" },
    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/import", "" },
};


/* An allocator that remembers what it handed out. */

typedef struct {
    void    *p;
    size_t   size;
} fuzz_block_t;

typedef struct {
    fuzz_block_t  *b;
    size_t         n;
    size_t         cap;
} fuzz_mem_t;


static void *
fuzz_alloc(void *data, size_t size)
{
    void        *p;
    fuzz_mem_t  *m = data;

    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->b = realloc(m->b, m->cap * sizeof(fuzz_block_t));
        if (m->b == NULL) {
            FUZZ_FAIL("m->b == NULL");
        }
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return NULL;
    }

    m->b[m->n].p = p;
    m->b[m->n].size = size;
    m->n++;

    return p;
}


static void
fuzz_free(void *data, void *p)
{
    size_t       i;
    fuzz_mem_t  *m = data;

    for (i = 0; i < m->n; i++) {
        if (m->b[i].p == p) {
            m->b[i] = m->b[--m->n];
            free(p);
            return;
        }
    }

    FUZZ_FAIL("a block freed twice, or never allocated here");
}


static int
fuzz_within(const u_char *p, size_t len, const u_char *base, size_t size)
{
    return p >= base && len <= size && (size_t) (p - base) <= size - len;
}


static int
fuzz_owned(const fuzz_mem_t *m, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < m->n; i++) {
        if (fuzz_within(p, len, m->b[i].p, m->b[i].size)) {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i, end, err, rejected;
    xf_status_t          rc;
    xf_alloc_t           a;
    fuzz_mem_t           m;
    xf_limits_t          lim;
    xf_upload_t          up;
    xf_request_t         req;
    xf_json_span_t       span;
    const xf_event_t    *ev;
    fuzz_input_t         in;
    const fuzz_route_t  *r;

    if (!fuzz_input(data, size, &in)) {
        return 0;
    }

    /* 5 selector bits, fewer rows than 32: the rest wrap around */
    r = &fuzz_routes[(fuzz_bits(&in, 0, 4) | fuzz_bits(&in, 5, 1) << 4)
                     % (sizeof(fuzz_routes) / sizeof(fuzz_routes[0]))];

    if (fuzz_bits(&in, 4, 1)) {
        lim.max_decoded = 4096;
        lim.max_events = 4;
        lim.max_event_size = 64;
        lim.max_depth = 3;

    } else {
        lim.max_decoded = 1024 * 1024;
        lim.max_events = 1000;
        lim.max_event_size = 64 * 1024;
        lim.max_depth = 64;
    }

    memset(&req, 0, sizeof(xf_request_t));
    req.format = r->format;
    req.method = r->method;
    req.path.data = (const u_char *) r->path;
    req.path.len = strlen(r->path);
    req.authorization.data = (const u_char *) "Basic d2s6";
    req.authorization.len = 10;
    req.cookie.data = (const u_char *) "a=b; sp=nuid";
    req.cookie.len = 12;

    if (r->query == NULL) {
        req.query.data = in.p;
        req.query.len = in.len;

    } else {
        req.query.data = (const u_char *) r->query;
        req.query.len = strlen(r->query);
        req.body = in.p;
        req.body_len = in.len;
    }

    memset(&m, 0, sizeof(fuzz_mem_t));
    a.alloc = fuzz_alloc;
    a.free = fuzz_free;
    a.data = &m;

    memset(&up, 0, sizeof(xf_upload_t));

    rc = xf_format_parse(&req, &lim, &a, &up);

    if (up.format == XF_FMT_AUTO || (unsigned) up.format >= XF_FMT_MAX) {
        FUZZ_FAIL("up.format == XF_FMT_AUTO || (unsigned) up.format >= "
                  "XF_FMT_MAX");
    }

    /* A body over the cap is refused before any layer is peeled. */

    if ((req.body_len > lim.max_decoded
         ? rc != XF_ERR_TOO_LARGE || up.decoded != 0
         : req.body_len + up.decoded > lim.max_decoded)
        || up.n > lim.max_events || up.n > up.cap)
    {
        FUZZ_FAIL("(req.body_len > lim.max_decoded ? rc != XF_ERR_TOO_LARGE || "
                  "up.decoded != 0 : req.body_len + up.decoded > "
                  "lim.max_decoded) || up.n > lim.max_events || up.n > up.cap");
    }

    if (rc == XF_OK && up.reply == XF_REPLY_POSTHOG_CONFIG && up.n != 0) {
        FUZZ_FAIL("rc == XF_OK && up.reply == XF_REPLY_POSTHOG_CONFIG && up.n "
                  "!= 0");
    }

    rejected = 0;

    for (i = 0; i < up.n; i++) {
        ev = &up.events[i];

        if (!fuzz_within(ev->p, ev->len, data, size)
            && !fuzz_owned(&m, ev->p, ev->len))
        {
            FUZZ_FAIL("!fuzz_within(ev->p, ev->len, data, size) && "
                      "!fuzz_owned(&m, ev->p, ev->len)");
        }

        if (ev->error != XF_OK) {
            rejected++;
            continue;
        }

        if (ev->len > lim.max_event_size) {
            FUZZ_FAIL("ev->len > lim.max_event_size");
        }

        if (xf_json_scan_value(ev->p, ev->len, XF_JSON_DEPTH_MAX, &span,
                               &end, &err)
            != XF_OK
            || span.type != XF_JSON_OBJECT || span.off != 0
            || span.len != ev->len)
        {
            FUZZ_FAIL("xf_json_scan_value(ev->p, ev->len, XF_JSON_DEPTH_MAX, "
                      "&span, &end, &err) != XF_OK || span.type != "
                      "XF_JSON_OBJECT || span.off != 0 || span.len != ev->len");
        }
    }

    if (rc == XF_OK && rejected != up.rejected) {
        FUZZ_FAIL("rc == XF_OK && rejected != up.rejected");
    }

    xf_format_free(&up, &a);

    if (m.n != 0) {
        FUZZ_FAIL("a block leaked");
    }

    free(m.b);

    return 0;
}
