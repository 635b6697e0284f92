/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_bot.h - User-Agents of crawlers, monitoring probes and headless
 * browsers: a request whose User-Agent holds one of the patterns (ASCII
 * case aside) is a bot's, unless it is a server-side SDK's (posthog-node
 * and the like send events on behalf of real users, from a server).
 */

#ifndef XF_BOT_H
#define XF_BOT_H

#include "xf_core.h"
#include "xf_format.h"


/* The shipped patterns and server SDK signatures, NULL-ended, lower
   case (docs/data-teams.md lists them). */
extern const char *const  xf_bot_patterns[];
extern const char *const  xf_bot_servers[];

/* Bytes of a User-Agent looked at: a longer one is cut there. */
#define XF_BOT_UA_MAX  512

/* What xf_bot_set_match() says of a server SDK's User-Agent. */
#define XF_BOT_SERVER  (-2)

/* Most patterns and server signatures one set holds. */
#define XF_BOT_SET_MAX  65535


typedef struct {
    const u_char   *data;           /* lower case, len >= 1 */
    uint32_t        pre;            /* its first 4 bytes (fewer: zeros) */
    uint32_t        mask;           /* of those that are the pattern's */
    uint16_t        len;
    uint16_t        next;           /* the bucket's next entry + 1; 0 */
    int32_t         index;          /* the pattern's; -1: a server SDK */
} xf_bot_entry_t;

/*
 * Patterns and server signatures, indexed by their first two bytes (a
 * one-byte pattern by its byte): a User-Agent is read once, and at each
 * of its bytes only the entries of the bucket of the two bytes there are
 * tried, each first by its first four bytes as one word, so the cost
 * hardly grows with the number of patterns.  Built once, with the
 * configuration; read-only after.
 */
typedef struct {
    uint16_t        head[4096];     /* by the first two bytes' hash:
                                       first entry + 1; 0: none */
    uint16_t        head1[256];     /* one-byte patterns, by the byte */
    unsigned        has1;           /* any one-byte pattern */
    xf_bot_entry_t *entries;
    size_t          n;
} xf_bot_set_t;


/*
 * Build s from patterns[0..n) and servers[0..nservers) (lower case;
 * empty ones are left out; the strings stay the caller's and must
 * outlive s).  The entries come from a.  Returns XF_OK, XF_ERR_NOMEM, or
 * XF_ERR_TOO_LARGE for more than XF_BOT_SET_MAX, or for a pattern longer
 * than XF_BOT_UA_MAX (it could never match).
 */
xf_status_t xf_bot_set_build(xf_bot_set_t *s, const xf_str_t *patterns,
    size_t n, const xf_str_t *servers, size_t nservers,
    const xf_alloc_t *a);

/*
 * The pattern the User-Agent ua holds, ASCII case aside: the lowest
 * index of those it holds; -1 for none; XF_BOT_SERVER for a User-Agent
 * that holds a server SDK's signature (never a bot's, whatever else it
 * holds).  Only its first XF_BOT_UA_MAX bytes are
 * read.  Cost: one pass over them, comparing only the entries indexed
 * under each position's two bytes.
 */
ssize_t xf_bot_set_match(const xf_bot_set_t *s, const xf_str_t *ua);


/*
 * ASN lists (xflow_bot_asns): numbers, sorted and without duplicates
 * once xf_bot_asns_sort() ran.  cap is in bytes (xf_reserve()).
 */
typedef struct {
    uint32_t       *v;
    size_t          n;
    size_t          cap;
} xf_bot_asns_t;

/*
 * One ASN as the lists write it, "16509" or "AS16509" (either case),
 * 1 to 4294967295: 1 with *asn set, 0 for anything else.
 */
int xf_bot_asn(const u_char *p, size_t len, uint32_t *asn);

/*
 * Append the ASNs of a list's text to l: one a line, "#" to the end of
 * the line a comment, blank lines skipped, spaces around ignored.  Memory
 * from a.  Returns XF_OK; XF_ERR_NOMEM; or XF_ERR_FORM with what is wrong
 * in err and its line (from 1) in *line: l keeps the lines before it.
 */
xf_status_t xf_bot_asns_parse(xf_bot_asns_t *l, const u_char *p, size_t len,
    const xf_alloc_t *a, char *err, size_t err_size, size_t *line);

/* Sort l and drop its duplicates, once every list was added. */
void xf_bot_asns_sort(xf_bot_asns_t *l);

/* Whether the sorted l holds asn (a binary search). */
int xf_bot_asns_has(const xf_bot_asns_t *l, uint32_t asn);

#endif /* XF_BOT_H */
