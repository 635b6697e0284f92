/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_unit_format.h - the fixture of the format adapters' unit tests
 * (test-format.c, test-format-sdk.c): one upload parsed under fixed
 * limits with the libc allocator, and running an adapter on a request
 * made of strings.  Header-only (static inline); each test file that
 * includes it has its own upload.
 */

#ifndef XF_UNIT_FORMAT_H
#define XF_UNIT_FORMAT_H

#include <string.h>

#include <check.h>

#include "xf_format.h"
#include "xf_unit.h"


static xf_limits_t   lim;
static xf_upload_t   up;
static xf_hashref_t *hash_key;          /* run_req's xflow_hash_key */


/* A checked fixture: the limits, and an empty upload. */
static inline void
setup(void)
{
    lim.max_decoded = 1024 * 1024;
    lim.max_events = 100;
    lim.max_event_size = 32 * 1024;
    lim.max_depth = 32;
    memset(&up, 0, sizeof(xf_upload_t));
}


static inline void
teardown(void)
{
    xf_format_free(&up, &xf_alloc_libc);
}


/*
 * Parse a request into up (what the last run left is freed first); auth
 * and cookie may be NULL for none.  Returns xf_format_parse()'s status.
 */
static inline xf_status_t
run_req(xf_format_t fmt, xf_method_t m, const char *path, const char *query,
    const char *auth, const char *cookie, const void *body, size_t len)
{
    xf_request_t  req;

    xf_format_free(&up, &xf_alloc_libc);

    memset(&req, 0, sizeof(xf_request_t));
    req.format = fmt;
    req.method = m;
    req.path.data = (const u_char *) path;
    req.path.len = strlen(path);
    req.query.data = (const u_char *) query;
    req.query.len = strlen(query);
    req.authorization.data = (const u_char *) (auth ? auth : "");
    req.authorization.len = auth ? strlen(auth) : 0;
    req.cookie.data = (const u_char *) (cookie ? cookie : "");
    req.cookie.len = cookie ? strlen(cookie) : 0;
    req.body = body;
    req.body_len = len;
    req.hash_key = hash_key;

    return xf_format_parse(&req, &lim, &xf_alloc_libc, &up);
}


/* run_req() without credentials or cookies. */
static inline xf_status_t
run_len(xf_format_t fmt, xf_method_t m, const char *path, const char *query,
    const void *body, size_t len)
{
    return run_req(fmt, m, path, query, NULL, NULL, body, len);
}


/* run_req() of a text body (NULL: none). */
static inline xf_status_t
run(xf_format_t fmt, xf_method_t m, const char *path, const char *query,
    const char *body)
{
    return run_len(fmt, m, path, query, body, body ? strlen(body) : 0);
}


/* Event i of up is the JSON want (as values: order and spacing aside). */
static inline void
ck_event_json(size_t i, const char *want)
{
    ck_assert_uint_lt(i, up.n);
    xf_unit_json_is(up.events[i].p, up.events[i].len, want, "event", i);
}

#endif /* XF_UNIT_FORMAT_H */
