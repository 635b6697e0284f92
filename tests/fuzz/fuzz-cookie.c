/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-cookie.c - Cookie header parsing and the "cookies" member on
 * arbitrary bytes.
 *
 * Invariant: no crash, no undefined behaviour, no read outside the
 * header, and on every input:
 *   - xf_cookie_next ends at the end of the header; every cookie's name
 *     and value lie inside it, hold no ';', and neither starts nor ends
 *     with a space or a tab; a name holds no '=';
 *   - xf_cookie_member into an xf_cookie_member_bound() buffer returns
 *     XF_OK; a non-empty member, wrapped in braces, is one valid JSON
 *     object whose "cookies" value holds at most max_refs members, each
 *     a name that a pattern matches, with a 22-character reference:
 *     every byte of the member is structure, a matched name or a
 *     reference, so no value can have leaked into it;
 *   - the member is the same byte for byte when every reference is an
 *     HMAC (a key state without the cache, xf_hashref_cache()): the
 *     cache, which lives across inputs, answers what the HMAC does.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_cookie.h"
#include "xf_json.h"
#include "fuzz.h"


#define FUZZ_MAX_REFS  4

static xf_hashref_t  *fuzz_key;
static xf_hashref_t  *fuzz_plain;       /* the same key, no cache */


static void
fuzz_check(int ok)
{
    if (!ok) {
        FUZZ_FAIL("!ok");
    }
}


static void
fuzz_span(const u_char *s, size_t n, const u_char *p, size_t len)
{
    fuzz_check(s >= p && s + n <= p + len);
    fuzz_check(n == 0 || memchr(s, ';', n) == NULL);

    if (n) {
        fuzz_check(s[0] != ' ' && s[0] != '\t');
        fuzz_check(s[n - 1] != ' ' && s[n - 1] != '\t');
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *out, *name, *plain;
    size_t                n, pn, count, end, err_off, i, nlen, cap;
    xf_status_t           rc;
    xf_cookie_t           c;
    const u_char         *pos, *q;
    xf_json_span_t        span, v;
    xf_cookie_pattern_t   pats[3];

    if (fuzz_key == NULL) {
        fuzz_check(xf_hashref_create((const u_char *)
                                     "0123456789abcdef0123456789abcdef", 32,
                                     (const u_char *) "f", 1, &xf_alloc_libc,
                                     &fuzz_key) == NULL);
        fuzz_check(xf_hashref_create((const u_char *)
                                     "0123456789abcdef0123456789abcdef", 32,
                                     (const u_char *) "f", 1, &xf_alloc_libc,
                                     &fuzz_plain) == NULL);
        xf_hashref_cache(fuzz_plain, 0);
    }

    /* parse */

    count = 0;
    pos = data;

    while (xf_cookie_next(&pos, data + size, &c)) {
        fuzz_span(c.name, c.name_len, data, size);
        fuzz_span(c.value, c.value_len, data, size);
        fuzz_check(c.name_len == 0 || memchr(c.name, '=', c.name_len) == NULL);
        fuzz_check(++count <= size);
    }

    fuzz_check(pos == data + size);

    /* render */

    fuzz_check(xf_cookie_pattern(&pats[0], (const u_char *) "a", 1) == NULL);
    fuzz_check(xf_cookie_pattern(&pats[1], (const u_char *) "ph_*", 4)
               == NULL);
    fuzz_check(xf_cookie_pattern(&pats[2], (const u_char *) "s*", 2) == NULL);

    cap = xf_cookie_member_bound(size, FUZZ_MAX_REFS) + 1;
    out = malloc(cap);
    fuzz_check(out != NULL);

    rc = xf_cookie_member(fuzz_key, pats, 3, FUZZ_MAX_REFS, data, size, out,
                          cap - 1, &n);
    fuzz_check(rc == XF_OK && n < cap);

    plain = malloc(cap);
    fuzz_check(plain != NULL);
    rc = xf_cookie_member(fuzz_plain, pats, 3, FUZZ_MAX_REFS, data, size,
                          plain, cap - 1, &pn);
    fuzz_check(rc == XF_OK && pn == n && memcmp(plain, out, n) == 0);
    free(plain);

    if (n == 0) {
        free(out);
        return 0;
    }

    out[0] = '{';
    out[n] = '}';

    rc = xf_json_scan_value(out, n + 1, 4, &span, &end, &err_off);
    fuzz_check(rc == XF_OK && span.off == 0 && end == n + 1);

    rc = xf_json_object_get(out, n + 1, "cookies", 7, &v);
    fuzz_check(rc == XF_OK && v.type == XF_JSON_OBJECT);

    /* walk the members: "name":"REF" */

    q = out + v.off + 1;
    count = 0;

    for (i = 0; q[0] == '"'; i++) {
        rc = xf_json_scan_value(q, out + v.off + v.len - q, 0, &span, &end,
                                &err_off);
        fuzz_check(rc == XF_OK && span.type == XF_JSON_STRING);

        name = malloc(span.len);
        fuzz_check(name != NULL);
        fuzz_check(xf_json_string_unescape(q, span.len, name, span.len, &nlen)
                   == XF_OK);

        /* an escaped name that was not UTF-8 no longer matches bytewise */
        if (memchr(q, '\\', span.len) == NULL) {
            fuzz_check(xf_cookie_match(pats, 3, name, nlen));
        }

        free(name);

        q += span.len;
        fuzz_check(q[0] == ':' && q[1] == '"' && q[2 + XF_HASHREF_LEN] == '"');
        q += 3 + XF_HASHREF_LEN;
        count++;

        if (q[0] == ',') {
            q++;
        }
    }

    fuzz_check(count >= 1 && count <= FUZZ_MAX_REFS);
    fuzz_check(q == out + v.off + v.len - 1 && q[0] == '}');

    free(out);

    return 0;
}
