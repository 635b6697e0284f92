/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-strip.c - field stripping on arbitrary events and rule sets.
 *
 * The first byte picks which of eight fixed rules apply (bit i: rule i),
 * the second which of them replace rather than drop (rules 1 and 5 as
 * ids, rule 5 in a cookie's form, rules 2 and 6 as User-Agents, the others
 * hash; with both bits 6 and 7 of the first byte set, ids become a
 * cookieless id); the rest is the event.
 *
 * Invariant: no crash, no undefined behaviour, no read outside the input
 * or write outside the xf_strip_bound() buffer, and:
 *   - on an event the scanner accepts as one object, xf_strip returns
 *     XF_OK and its output (or the input, when unchanged) is again one
 *     valid object;
 *   - with drop rules only, the output is a subsequence of the input
 *     (only bytes were removed) and stripping it again changes nothing;
 *   - on any other bytes, xf_strip returns without touching memory
 *     outside its buffers, and *out_len stays within the bound.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"
#include "xf_strip.h"
#include "fuzz.h"


static const char  *fuzz_paths[] = {
    "a", "b", "a.b", "properties.$ip", "c.d.e", "$ua", "a.b.c", "\xc3\xa9"
};

static xf_hashref_t  *fuzz_key;


static void
fuzz_check(int ok)
{
    if (!ok) {
        FUZZ_FAIL("!ok");
    }
}


static size_t
fuzz_rules(u_char on, u_char hash, xf_strip_rule_t *rules)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < 8; i++) {
        if (!(on & (1u << i))) {
            continue;
        }

        fuzz_check(xf_strip_rule_init(&rules[n], (const u_char *) fuzz_paths[i],
                                      strlen(fuzz_paths[i]),
                                      !(hash & (1u << i)) ? XF_STRIP_DROP
                                      : (i & 3) == 1 ? XF_STRIP_ID
                                      : (i & 3) == 2 ? XF_STRIP_UA
                                      : XF_STRIP_HASH)
                   == NULL);

        if (i == 5) {
            rules[n].cookie = (const u_char *) "sp";
            rules[n].cookie_len = 2;
        }

        n++;
    }

    return n;
}


static int
fuzz_subsequence(const u_char *a, size_t alen, const u_char *b, size_t blen)
{
    size_t  i, j;

    for (i = 0, j = 0; i < alen && j < blen; j++) {
        if (a[i] == b[j]) {
            i++;
        }
    }

    return i == alen;
}


/*
 * xf_strip_probe() on the text of member "a" or "b" (what a key would be
 * read from): a value the rules hash comes back as the very reference
 * the stripped event holds; when no rule acted, nothing does.  And
 * xf_strip_values() of both in one walk gives exactly the stripped event
 * and the probes' results.
 */
static void
fuzz_probe(const xf_strip_conf_t *conf, const u_char *p, size_t len,
    const u_char *out, size_t n)
{
    u_char            *text, *both;
    size_t             tlen, k, nb;
    xf_json_span_t     v;
    xf_strip_probe_t   res, one[2], two[2];
    const u_char      *texts[2];
    size_t             tlens[2];
    u_char             quoted[XF_HASHREF_LEN + 2];
    static const char  *names[] = { "a", "b" };

    for (k = 0; k < 2; k++) {
        texts[k] = NULL;
        tlens[k] = 0;
        one[k].action = XF_STRIP_PROBE_KEEP;
    }

    for (k = 0; k < 2; k++) {
        if (xf_json_object_get(p, len, names[k], 1, &v) != XF_OK) {
            continue;
        }

        text = malloc(v.len + 1);
        fuzz_check(text != NULL);

        if (v.type == XF_JSON_STRING) {
            if (xf_json_string_unescape(p + v.off, v.len, text, v.len + 1,
                                        &tlen) != XF_OK)
            {
                free(text);
                continue;
            }

        } else {
            memcpy(text, p + v.off, v.len);
            tlen = v.len;
        }

        fuzz_check(xf_strip_probe(conf, &xf_alloc_libc, p, len, text, tlen,
                                  &res) == XF_OK);

        if (n == 0) {
            fuzz_check(res.action == XF_STRIP_PROBE_KEEP || tlen == 0);
        }

        if (res.action == XF_STRIP_PROBE_HASH) {
            fuzz_check(res.ref_len == XF_HASHREF_LEN);
            quoted[0] = '"';
            memcpy(quoted + 1, res.ref, XF_HASHREF_LEN);
            quoted[XF_HASHREF_LEN + 1] = '"';
            fuzz_check(n > 0 && memmem(out, n, quoted, sizeof(quoted))
                                != NULL);
        }

        one[k] = res;
        texts[k] = text;
        tlens[k] = tlen;
    }

    both = malloc(xf_strip_bound(len));
    fuzz_check(both != NULL);

    fuzz_check(xf_strip_values(conf, &xf_alloc_libc, p, len, both,
                               xf_strip_bound(len), &nb, texts, tlens, 2,
                               two) == XF_OK);
    fuzz_check(nb == n && memcmp(both, out, n) == 0);

    for (k = 0; k < 2; k++) {
        fuzz_check(two[k].action == one[k].action);

        if (one[k].action == XF_STRIP_PROBE_HASH) {
            fuzz_check(two[k].ref_len == XF_HASHREF_LEN
                       && memcmp(two[k].ref, one[k].ref, XF_HASHREF_LEN)
                          == 0);
        }

        free((u_char *) (uintptr_t) texts[k]);
    }

    free(both);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              drop_only;
    u_char          *out, *again;
    size_t           len, n, n2, end, err_off, cap;
    xf_status_t      rc;
    const u_char    *p;
    xf_json_span_t   span;
    xf_strip_conf_t  conf;
    xf_strip_rule_t  rules[8];

    if (size < 2) {
        return 0;
    }

    if (fuzz_key == NULL) {
        fuzz_check(xf_hashref_create((const u_char *)
                                     "0123456789abcdef0123456789abcdef", 32,
                                     (const u_char *) "f", 1, &xf_alloc_libc,
                                     &fuzz_key) == NULL);
    }

    conf.rules = rules;
    conf.n = fuzz_rules(data[0], data[1], rules);
    conf.h = fuzz_key;
    conf.ua = NULL;
    conf.anon = (data[0] & 0xc0) == 0xc0
                ? (const u_char *) "ANONanonANONanonANONan" : NULL;
    drop_only = (data[0] & data[1]) == 0;

    p = data + 2;
    len = size - 2;

    cap = xf_strip_bound(len);
    out = malloc(cap ? cap : 1);
    fuzz_check(out != NULL);

    rc = xf_json_scan_value(p, len, 64, &span, &end, &err_off);

    if (rc != XF_OK || span.type != XF_JSON_OBJECT) {
        /* not an event: only memory safety is asked for */
        rc = xf_strip(&conf, &xf_alloc_libc, p, len, out, cap, &n);
        fuzz_check(n <= cap);
        free(out);
        return 0;
    }

    p += span.off;
    len = span.len;

    rc = xf_strip(&conf, &xf_alloc_libc, p, len, out, cap, &n);
    fuzz_check(rc == XF_OK && n <= cap);

    fuzz_probe(&conf, p, len, out, n);

    if (n == 0) {
        free(out);
        return 0;
    }

    rc = xf_json_scan_value(out, n, 64, &span, &end, &err_off);
    fuzz_check(rc == XF_OK && span.off == 0 && span.len == n);
    fuzz_check(span.type == XF_JSON_OBJECT);

    if (drop_only) {
        fuzz_check(n < len);
        fuzz_check(fuzz_subsequence(out, n, p, len));

        again = malloc(xf_strip_bound(n));
        fuzz_check(again != NULL);
        rc = xf_strip(&conf, &xf_alloc_libc, out, n, again, xf_strip_bound(n),
                      &n2);
        fuzz_check(rc == XF_OK && n2 == 0);
        free(again);
    }

    free(out);

    return 0;
}
