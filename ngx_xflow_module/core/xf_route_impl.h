/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_route_impl.h - private to the routing files: the compiled table
 * (name indexes, the prefix trie, the has= names) that xf_route.c builds
 * and xf_route_match.c reads.
 */

#ifndef XF_ROUTE_IMPL_H
#define XF_ROUTE_IMPL_H

#include <string.h>

#include "xf_json.h"
#include "xf_route.h"


/* One name of an index and the rules (sorted) it selects. */
typedef struct {
    xf_str_t        name;
    uint64_t        hash;
    uint32_t       *rules;
    uint32_t        n;
} xf_route_slot_t;


/* Open addressing, linear probing, at most half full. */
typedef struct {
    xf_route_slot_t *slots;
    size_t           mask;              /* capacity - 1; no slots: 0 */
} xf_route_index_t;


/*
 * Prefix rules (event=order_* and no exact name): a byte trie of the
 * prefixes, each node holding the rules whose prefix ends there, so an
 * event name collects its candidates in one walk down its own bytes.
 */
typedef struct {
    uint32_t        child;              /* first child, 0: none */
    uint32_t        sibling;            /* next sibling, 0: none */
    uint32_t        rules;              /* offset in the trie's rule ids */
    uint32_t        nrules;
    u_char          byte;
} xf_route_node_t;


#define XF_ROUTE_PREFIX_MAX  64         /* candidates gathered on a walk */


struct xf_route_table_s {
    xf_route_rule_t    *rules;
    uint32_t           *topics;
    size_t              n;
    xf_route_index_t    by_event;       /* rules with exact event names */
    xf_route_index_t    by_app;         /* no event condition, exact apps */
    xf_route_node_t    *trie;           /* node 0 is the root ("") */
    size_t              ntrie;
    uint32_t           *trie_rules;
    uint32_t           *prefixed;       /* every trie rule, in order: the */
    size_t              nprefixed;      /* fallback of a crowded walk */
    uint32_t           *rest;           /* everything else, in order */
    size_t              nrest;

    /*
     * has= properties: every distinct name once (at most
     * XF_ROUTE_HAS_MAX, else has_keys is NULL and each rule looks for its
     * own), and per rule the bits of the names it needs.  An event is
     * looked at once for all of them, at its top level and in its
     * "properties", whatever the number of rules.
     */
    xf_json_key_t      *has_keys;
    size_t              nhas_keys;
    uint64_t           *has_need;       /* per rule */
};


#define XF_ROUTE_HAS_MAX     64

/* Which has= names an event has: found on the first rule that asks. */
typedef struct {
    int             done;
    uint64_t        present;
} xf_route_has_t;


static inline uint64_t
xf_route_hash(const u_char *p, size_t len)
{
    size_t    i;
    uint64_t  h;

    /* FNV-1a: names are short and few; no adversary picks them */
    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static inline int
xf_route_str_eq(const xf_str_t *a, const u_char *p, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->data, p, len) == 0);
}


#endif /* XF_ROUTE_IMPL_H */
