/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-json.c - the JSON scanner on arbitrary bytes.
 *
 * Invariant: no crash, no undefined behaviour, no read outside the input,
 * and on every input:
 *   - xf_json_scan_value's span and end lie inside the input, the span
 *     ends at end, and an error offset is at most the input's length;
 *   - on XF_OK from xf_json_split, the spans lie inside the input, in
 *     order and without overlap, and each one re-validates alone with
 *     xf_json_scan_value, covering all of its bytes with the same type;
 *   - for each object span, xf_json_object_get finds its first member by
 *     that member's unescaped name, and for that and a few fixed names
 *     returns a value span inside the object that re-validates alone;
 *   - a split that also looks for members (xf_json_split_t.keys) gives
 *     the same result and spans, and for each event exactly what
 *     xf_json_object_fields finds in it (nothing for a non-object);
 *   - each string span unescapes into a buffer of the span's length;
 *   - xf_json_escape of any bytes stays within xf_json_escape_bound and,
 *     wrapped in quotes, re-scans as exactly one valid JSON string.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"
#include "fuzz.h"


#define FUZZ_DEPTH   64


static void
fuzz_check(int ok)
{
    if (!ok) {
        FUZZ_FAIL("!ok");
    }
}


/* p, len is a value that must be valid alone, of the given type. */
static void
fuzz_revalidate(const u_char *p, size_t len, xf_json_type_t type)
{
    size_t          end, err_off;
    xf_status_t     rc;
    xf_json_span_t  span;

    rc = xf_json_scan_value(p, len, FUZZ_DEPTH, &span, &end, &err_off);

    fuzz_check(rc == XF_OK);
    fuzz_check(span.off == 0 && span.len == len && end == len);
    fuzz_check(span.type == type);
}


static void
fuzz_member(const u_char *p, size_t len, const char *key, size_t key_len)
{
    xf_status_t     rc;
    xf_json_span_t  v;

    rc = xf_json_object_get(p, len, key, key_len, &v);

    if (rc == XF_ERR_EMPTY) {
        return;
    }

    fuzz_check(rc == XF_OK);
    fuzz_check(v.off > 0 && v.len > 0 && v.off + v.len < len);
    fuzz_revalidate(p + v.off, v.len, v.type);
}


static void
fuzz_object(const u_char *p, size_t len)
{
    u_char          *name;
    size_t           end, err_off, n;
    xf_status_t      rc;
    xf_json_span_t   key;

    fuzz_member(p, len, "event", 5);
    fuzz_member(p, len, "a", 1);
    fuzz_member(p, len, "", 0);

    /* the first member's name, found by scanning past the brace */

    rc = xf_json_scan_value(p + 1, len - 1, 0, &key, &end, &err_off);

    if (rc != XF_OK) {
        /* "{}" or "{ }": the scan stops at the closing brace */
        fuzz_check(rc == XF_ERR_JSON_SYNTAX && 1 + err_off == len - 1);
        fuzz_check(xf_json_object_get(p, len, "a", 1, &key) == XF_ERR_EMPTY);
        return;
    }

    fuzz_check(key.type == XF_JSON_STRING);

    name = malloc(key.len);
    fuzz_check(name != NULL);

    rc = xf_json_string_unescape(p + 1 + key.off, key.len, name, key.len,
                                 &n);
    fuzz_check(rc == XF_OK);

    fuzz_member(p, len, (char *) name, n);
    fuzz_check(xf_json_object_get(p, len, (char *) name, n, &key) == XF_OK);

    free(name);
}


static void
fuzz_string(const u_char *p, size_t len)
{
    u_char       *dst;
    size_t        n;
    xf_status_t   rc;

    dst = malloc(len);
    fuzz_check(dst != NULL);

    rc = xf_json_string_unescape(p, len, dst, len - 2, &n);
    fuzz_check(rc == XF_OK && n <= len - 2);

    free(dst);
}


static void
fuzz_escape(const uint8_t *data, size_t size)
{
    u_char  *dst;
    size_t   n;

    dst = malloc(xf_json_escape_bound(size) + 2);
    fuzz_check(dst != NULL);

    dst[0] = '"';
    n = xf_json_escape(dst + 1, data, size);
    fuzz_check(n <= xf_json_escape_bound(size));
    dst[n + 1] = '"';

    fuzz_revalidate(dst, n + 2, XF_JSON_STRING);
    fuzz_string(dst, n + 2);

    free(dst);
}


/* The member names looked for by the second split. */
static const xf_json_key_t  fuzz_keys[] = {
    { "event", 5 }, { "type", 4 }, { "distinct_id", 11 }, { "uid", 3 },
    { "a", 1 }, { "", 0 }, { "app", 3 }, { "\xc3\xa9", 2 },
    { "a_long_member_name_over_sixty_three_bytes_long_to_share_a_slot__x",
      65 },
};

#define FUZZ_NKEYS  (sizeof(fuzz_keys) / sizeof(fuzz_keys[0]))


static void
fuzz_split_keys(const u_char *p, size_t len, const xf_json_split_conf_t *conf,
    xf_status_t want_rc, const xf_json_split_t *want)
{
    size_t            i, k;
    uint32_t          found;
    xf_status_t       rc;
    xf_json_span_t   *s, v[FUZZ_NKEYS], *got;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));
    out.keys = fuzz_keys;
    out.nkeys = FUZZ_NKEYS;

    rc = xf_json_split(p, len, conf, &xf_alloc_libc, &out);

    fuzz_check(rc == want_rc);

    if (rc == XF_OK) {
        fuzz_check(out.n == want->n);

        for (i = 0; i < out.n; i++) {
            s = &out.spans[i];

            fuzz_check(s->off == want->spans[i].off
                       && s->len == want->spans[i].len
                       && s->type == want->spans[i].type);

            if (s->type != XF_JSON_OBJECT) {
                fuzz_check(out.found[i] == 0);
                continue;
            }

            fuzz_check(xf_json_object_fields(p + s->off, s->len, fuzz_keys,
                                             FUZZ_NKEYS, v, &found)
                       == XF_OK);
            fuzz_check(out.found[i] == found);

            got = out.values + i * FUZZ_NKEYS;

            for (k = 0; k < FUZZ_NKEYS; k++) {
                if (found & (1u << k)) {
                    fuzz_check(got[k].off == v[k].off
                               && got[k].len == v[k].len
                               && got[k].type == v[k].type);
                }
            }
        }
    }

    free(out.spans);
    free(out.values);
    free(out.found);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 i, end, err_off, prev;
    xf_status_t            rc;
    xf_json_span_t         span, *s;
    xf_json_split_t        out;
    xf_json_split_conf_t   conf;

    rc = xf_json_scan_value(data, size, XF_JSON_DEPTH_MAX, &span, &end,
                            &err_off);

    if (rc == XF_OK) {
        fuzz_check(end <= size && span.off + span.len == end);
        fuzz_check(span.len > 0);

    } else {
        fuzz_check(err_off <= size);
    }

    conf.max_depth = FUZZ_DEPTH;
    conf.max_events = 1000;
    memset(&out, 0, sizeof(out));

    rc = xf_json_split(data, size, &conf, &xf_alloc_libc, &out);

    if (rc == XF_OK) {
        prev = 0;

        for (i = 0; i < out.n; i++) {
            s = &out.spans[i];

            fuzz_check(s->off >= prev && s->len > 0);
            fuzz_check((size_t) s->off + s->len <= size);
            prev = s->off + s->len;

            fuzz_revalidate(data + s->off, s->len, s->type);

            if (s->type == XF_JSON_OBJECT) {
                fuzz_object(data + s->off, s->len);

            } else if (s->type == XF_JSON_STRING) {
                fuzz_string(data + s->off, s->len);
            }
        }

    } else {
        fuzz_check(out.err_off <= size);
    }

    fuzz_split_keys(data, size, &conf, rc, &out);

    free(out.spans);

    fuzz_escape(data, size);

    return 0;
}
