/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-bot-asns.c - xflow_bot_asns files, and the User-Agent match.
 *
 * Invariant: any bytes parse without a crash or undefined behaviour;
 * a file that parses gives ASNs from 1 to 4294967295, found again by
 * xf_bot_asns_has() once sorted (sorted, without duplicates); a refused
 * one names a line no further than the file's last.  The same bytes as
 * a User-Agent get the answer of a plain scan of the shipped patterns.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_bot.h"
#include "fuzz.h"


static int
fuzz_asns(const uint8_t *data, size_t size)
{
    char           err[256];
    size_t         i, line, lines;
    uint32_t       asn;
    xf_bot_asns_t  l;

    memset(&l, 0, sizeof(l));

    for (i = 0, lines = 1; i < size; i++) {
        lines += data[i] == '\n';
    }

    if (xf_bot_asns_parse(&l, data, size, &xf_alloc_libc, err, sizeof(err),
                          &line)
        != XF_OK)
    {
        if (line == 0 || line > lines || err[0] == '\0') {
            FUZZ_FAIL("line == 0 || line > lines || err[0] == '\\0'");
        }

        free(l.v);
        return 0;
    }

    for (i = 0; i < l.n; i++) {
        if (l.v[i] == 0) {
            FUZZ_FAIL("l.v[i] == 0");
        }
    }

    asn = l.n ? l.v[l.n / 2] : 0;
    xf_bot_asns_sort(&l);

    for (i = 1; i < l.n; i++) {
        FUZZ_CHECK(l.v[i - 1] < l.v[i], "sorted, without duplicates");
    }

    if (asn) {
        FUZZ_CHECK(xf_bot_asns_has(&l, asn), "an ASN parsed is found");
    }

    free(l.v);

    return 0;
}


/* The shipped patterns, each looked for in turn: what the set answers. */
static ssize_t
fuzz_plain(const xf_str_t *p, size_t n, const xf_str_t *s, size_t ns,
    const u_char *low, size_t len)
{
    size_t  i;

    for (i = 0; i < ns; i++) {
        if (s[i].len <= len && memmem(low, len, s[i].data, s[i].len)) {
            return XF_BOT_SERVER;
        }
    }

    for (i = 0; i < n; i++) {
        if (p[i].len <= len && memmem(low, len, p[i].data, p[i].len)) {
            return (ssize_t) i;
        }
    }

    return -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               low[XF_BOT_UA_MAX];
    size_t               i, len;
    xf_str_t             ua;
    static size_t        n, ns;
    static xf_str_t      p[128], s[64];
    static xf_bot_set_t  set;

    fuzz_asns(data, size);

    if (set.entries == NULL) {
        for (n = 0; xf_bot_patterns[n]; n++) {
            p[n].data = (const u_char *) xf_bot_patterns[n];
            p[n].len = strlen(xf_bot_patterns[n]);
        }

        for (ns = 0; xf_bot_servers[ns]; ns++) {
            s[ns].data = (const u_char *) xf_bot_servers[ns];
            s[ns].len = strlen(xf_bot_servers[ns]);
        }

        FUZZ_CHECK(xf_bot_set_build(&set, p, n, s, ns, &xf_alloc_libc)
                   == XF_OK, "the shipped patterns build");
    }

    len = size < sizeof(low) ? size : sizeof(low);

    for (i = 0; i < len; i++) {
        low[i] = data[i] >= 'A' && data[i] <= 'Z' ? data[i] + 32 : data[i];
    }

    ua.data = data;
    ua.len = size;

    FUZZ_CHECK(xf_bot_set_match(&set, &ua)
               == fuzz_plain(p, n, s, ns, low, len),
               "the set answers as a scan of every pattern");

    return 0;
}
