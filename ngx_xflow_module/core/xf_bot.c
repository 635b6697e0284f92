/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_bot.c - bot User-Agents (xf_bot.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_bot.h"
#include "xf_realloc.h"


const char *const  xf_bot_patterns[] = {
    /* headless and automated browsers */
    "headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium",
    "webdriver", "slimerjs", "electron/", "cypress",
    /* crawlers */
    "googlebot", "bingbot", "bingpreview", "yandexbot", "baiduspider",
    "duckduckbot", "slurp", "applebot", "petalbot", "ahrefsbot",
    "semrushbot", "mj12bot", "dotbot", "bytespider", "gptbot",
    "claudebot", "ccbot", "amazonbot", "facebookexternalhit",
    "twitterbot", "linkedinbot", "slackbot", "discordbot", "telegrambot",
    "whatsapp", "crawler", "spider", "bot/", "bot;", "+http",
    /* monitoring and performance probes */
    "uptimerobot", "pingdom", "statuscake", "site24x7",
    "datadogsynthetics", "newrelicpinger", "checkly", "lighthouse",
    "pagespeed", "gtmetrix", "chrome-lighthouse",
    /* scripts */
    "python-requests", "python-urllib", "go-http-client", "wget/",
    "libwww-perl", "scrapy",
    NULL
};


/* Server-side SDKs: never bots, whatever else their User-Agent holds. */
const char *const  xf_bot_servers[] = {
    "posthog-node", "posthog-python", "posthog-ruby", "posthog-go",
    "posthog-java", "posthog-php", "analytics-node", "analytics-python",
    "analytics-ruby", "analytics-go", "analytics-java", "sensorsdata",
    "sensorsanalytics", "mixpanel-node", "mixpanel-python",
    "amplitude-node", "amplitude-python", "rudder-sdk-node", "snowplow",
    NULL
};


/* The bucket of a position's two bytes (lower case already). */
#define xf_bot_hash(a, b)  ((((unsigned) (a) << 6) ^ (unsigned) (b)) & 4095)


static u_char
xf_bot_lower(u_char c)
{
    return (c >= 'A' && c <= 'Z') ? (u_char) (c + 32) : c;
}


xf_status_t
xf_bot_set_build(xf_bot_set_t *s, const xf_str_t *patterns, size_t n,
    const xf_str_t *servers, size_t nservers, const xf_alloc_t *a)
{
    size_t           i, k;
    uint16_t        *head;
    xf_bot_entry_t  *e;
    const xf_str_t  *p;

    memset(s, 0, sizeof(*s));

    if (n + nservers > XF_BOT_SET_MAX) {
        return XF_ERR_TOO_LARGE;
    }

    if (n + nservers == 0) {
        return XF_OK;
    }

    s->entries = a->alloc(a->data, (n + nservers) * sizeof(xf_bot_entry_t));
    if (s->entries == NULL) {
        return XF_ERR_NOMEM;
    }

    /* the match takes the lowest index it finds: any order will do */
    for (k = 0; k < n + nservers; k++) {
        i = k < nservers ? k : k - nservers;
        p = k < nservers ? &servers[i] : &patterns[i];

        if (p->len == 0) {
            continue;
        }

        if (p->len > XF_BOT_UA_MAX) {
            a->free(a->data, s->entries);
            s->entries = NULL;
            return XF_ERR_TOO_LARGE;
        }

        e = &s->entries[s->n];
        e->data = p->data;
        e->len = (uint16_t) p->len;
        e->pre = 0;
        e->mask = 0;
        memcpy(&e->pre, p->data, xf_min(p->len, 4));
        memset(&e->mask, 0xff, xf_min(p->len, 4));
        s->has1 |= p->len == 1;
        e->index = k < nservers ? -1 : (int32_t) i;

        head = p->len == 1 ? &s->head1[p->data[0]]
                           : &s->head[xf_bot_hash(p->data[0], p->data[1])];
        e->next = *head;
        *head = (uint16_t) (++s->n);
    }

    return XF_OK;
}


/* The entry e at low + i (len - i bytes left): 1 if it is there. */
static int
xf_bot_at(const xf_bot_entry_t *e, const u_char *low, size_t i, size_t len)
{
    uint32_t  w;

    /* low has 4 zero bytes after len: the word can always be read */
    memcpy(&w, low + i, 4);

    return e->len <= len - i && (w & e->mask) == e->pre
           && (e->len <= 4
               || memcmp(low + i + 4, e->data + 4, e->len - 4) == 0);
}


ssize_t
xf_bot_set_match(const xf_bot_set_t *s, const xf_str_t *ua)
{
    u_char                 low[XF_BOT_UA_MAX + 4];
    size_t                 i, len;
    ssize_t                best;
    unsigned               e;
    const xf_bot_entry_t  *en;

    len = xf_min(ua->len, XF_BOT_UA_MAX);

    for (i = 0; i < len; i++) {
        low[i] = xf_bot_lower(ua->data[i]);
    }

    memset(low + len, 0, 4);
    best = -1;

    /* one-byte patterns, rare: a pass of their own when there are any */
    for (i = 0; s->has1 && i < len; i++) {
        for (e = s->head1[low[i]]; e; e = en->next) {
            en = &s->entries[e - 1];

            if (en->index < 0) {
                return XF_BOT_SERVER;
            }

            if (best < 0 || en->index < best) {
                best = en->index;
            }
        }
    }

    for (i = 0; i < len; i++) {
        /* the bucket of the two bytes here (the last: of it and a 0) */
        for (e = s->head[xf_bot_hash(low[i], low[i + 1])]; e; e = en->next)
        {
            en = &s->entries[e - 1];

            if (!xf_bot_at(en, low, i, len)) {
                continue;
            }

            if (en->index < 0) {
                return XF_BOT_SERVER;
            }

            if (best < 0 || en->index < best) {
                best = en->index;
            }
        }
    }

    return best;
}


int
xf_bot_asn(const u_char *p, size_t len, uint32_t *asn)
{
    size_t    i;
    uint64_t  v;

    if (len >= 2 && (p[0] == 'A' || p[0] == 'a')
        && (p[1] == 'S' || p[1] == 's'))
    {
        p += 2;
        len -= 2;
    }

    if (len == 0 || len > 10) {
        return 0;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        v = v * 10 + (uint64_t) (p[i] - '0');
    }

    if (v == 0 || v > UINT32_MAX) {
        return 0;
    }

    *asn = (uint32_t) v;

    return 1;
}


xf_status_t
xf_bot_asns_parse(xf_bot_asns_t *l, const u_char *p, size_t len,
    const xf_alloc_t *a, char *err, size_t err_size, size_t *line)
{
    u_char        *v;
    uint32_t       asn;
    const u_char  *end, *nl, *q, *t;

    end = p + len;
    *line = 0;

    for ( ; p < end; p = nl + 1) {
        ++*line;

        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        /* the line without its comment and the blanks around */
        q = memchr(p, '#', (size_t) (nl - p));
        if (q == NULL) {
            q = nl;
        }

        while (p < q && (*p == ' ' || *p == '\t')) {
            p++;
        }

        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) {
            q--;
        }

        if (p == q) {
            continue;
        }

        if (!xf_bot_asn(p, (size_t) (q - p), &asn)) {
            for (t = p; t < q && t - p < 32; t++) {
                if (*t < 0x20 || *t >= 0x7f || *t == '"') {
                    break;
                }
            }

            snprintf(err, err_size,
                     "\"%.*s%s\" is not an ASN (1 to 4294967295, "
                     "\"AS\" before it or not)", (int) (t - p), p,
                     t < q ? "..." : "");
            return XF_ERR_FORM;
        }

        v = (u_char *) l->v;

        if (xf_reserve(a, &v, l->n * sizeof(uint32_t), &l->cap,
                       sizeof(uint32_t), 64 * sizeof(uint32_t))
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }

        l->v = (uint32_t *) (void *) v;
        l->v[l->n++] = asn;
    }

    return XF_OK;
}


static int
xf_bot_asn_cmp(const void *x, const void *y)
{
    uint32_t  a = *(const uint32_t *) x, b = *(const uint32_t *) y;

    return a < b ? -1 : a > b;
}


void
xf_bot_asns_sort(xf_bot_asns_t *l)
{
    size_t  i, n;

    if (l->n < 2) {
        return;
    }

    qsort(l->v, l->n, sizeof(uint32_t), xf_bot_asn_cmp);

    for (i = 1, n = 1; i < l->n; i++) {
        if (l->v[i] != l->v[n - 1]) {
            l->v[n++] = l->v[i];
        }
    }

    l->n = n;
}


int
xf_bot_asns_has(const xf_bot_asns_t *l, uint32_t asn)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = l->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (l->v[mid] == asn) {
            return 1;
        }

        if (l->v[mid] < asn) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return 0;
}
