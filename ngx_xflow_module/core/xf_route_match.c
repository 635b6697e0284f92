/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_route_match.c - routing one event with a compiled table: the
 * candidates of its name, app and prefixes, merged in rule order, then
 * each candidate's remaining conditions (first match wins, copy goes on).
 */

#include "xf_route_impl.h"


static const xf_route_slot_t *
xf_route_index_find(const xf_route_index_t *idx, const u_char *p, size_t len)
{
    size_t                  j;
    uint64_t                h;
    const xf_route_slot_t  *s;

    if (idx->slots == NULL) {
        return NULL;
    }

    h = xf_route_hash(p, len);

    for (j = h & idx->mask; idx->slots[j].rules; j = (j + 1) & idx->mask) {
        s = &idx->slots[j];

        if (s->hash == h && xf_route_str_eq(&s->name, p, len)) {
            return s;
        }
    }

    return NULL;
}

/*
 * The prefix rules an event name can match, sorted: gathered on the walk
 * down the name's bytes.  Returns the number, or SIZE_MAX when more than
 * fit: then every prefix rule is a candidate (t->prefixed).
 */
static size_t
xf_route_trie_match(const xf_route_table_t *t, const xf_str_t *name,
    uint32_t *out)
{
    size_t            i, n, k, m;
    uint32_t          c, v;
    xf_route_node_t  *nd;

    if (t->trie == NULL) {
        return 0;
    }

    n = 0;
    nd = &t->trie[0];

    for (i = 0; ; i++) {
        for (k = 0; k < nd->nrules; k++) {
            if (n == XF_ROUTE_PREFIX_MAX) {
                return SIZE_MAX;
            }

            out[n++] = t->trie_rules[nd->rules + k];
        }

        if (i == name->len) {
            break;
        }

        for (c = nd->child; c; c = t->trie[c].sibling) {
            if (t->trie[c].byte == name->data[i]) {
                break;
            }
        }

        if (c == 0) {
            break;
        }

        nd = &t->trie[c];
    }

    /* insertion sort and dedupe: a handful of ids */
    for (i = 1; i < n; i++) {
        v = out[i];

        for (m = i; m > 0 && out[m - 1] > v; m--) {
            out[m] = out[m - 1];
        }

        out[m] = v;
    }

    for (i = 0, m = 0; i < n; i++) {
        if (m == 0 || out[m - 1] != out[i]) {
            out[m++] = out[i];
        }
    }

    return m;
}

static int
xf_route_names_match(const xf_route_names_t *names, const xf_str_t *v)
{
    size_t  i;

    for (i = 0; i < names->nexact; i++) {
        if (xf_route_str_eq(&names->exact[i], v->data, v->len)) {
            return 1;
        }
    }

    for (i = 0; i < names->nprefix; i++) {
        if (v->len >= names->prefix[i].len
            && (names->prefix[i].len == 0
                || memcmp(v->data, names->prefix[i].data,
                          names->prefix[i].len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* A top-level member, or a member of the top-level "properties" object. */
static int
xf_route_has(const xf_route_event_t *ev, const xf_str_t *prop)
{
    xf_json_span_t  v, p;

    if (ev->event == NULL) {
        return 0;
    }

    if (xf_json_object_get(ev->event, ev->event_len, (const char *) prop->data,
                           prop->len, &v) == XF_OK)
    {
        return 1;
    }

    if (xf_json_object_get(ev->event, ev->event_len, "properties", 10, &p)
        == XF_OK && p.type == XF_JSON_OBJECT
        && xf_json_object_get(ev->event + p.off, p.len,
                              (const char *) prop->data, prop->len, &v)
           == XF_OK)
    {
        return 1;
    }

    return 0;
}


/* The has= names an event has, top level or in "properties": one pass
 * over each per 32 names. */
static uint64_t
xf_route_has_all(const xf_route_table_t *t, const xf_route_event_t *ev)
{
    size_t          i, n;
    uint32_t        found;
    uint64_t        present;
    xf_json_span_t  v[32], p;

    present = 0;

    if (ev->event == NULL) {
        return 0;
    }

    for (i = 0; i < t->nhas_keys; i += 32) {
        n = xf_min(t->nhas_keys - i, 32);

        if (xf_json_object_fields(ev->event, ev->event_len,
                                  t->has_keys + i, n, v, &found)
            == XF_OK)
        {
            present |= (uint64_t) found << i;
        }
    }

    if (xf_json_object_get(ev->event, ev->event_len, "properties", 10, &p)
        == XF_OK && p.type == XF_JSON_OBJECT)
    {
        for (i = 0; i < t->nhas_keys; i += 32) {
            n = xf_min(t->nhas_keys - i, 32);

            if (xf_json_object_fields(ev->event + p.off, p.len,
                                      t->has_keys + i, n, v, &found)
                == XF_OK)
            {
                present |= (uint64_t) found << i;
            }
        }
    }

    return present;
}


/* The conditions a candidate's index did not already prove. */
static int
xf_route_rule_match(const xf_route_table_t *t, uint32_t rule,
    const xf_route_event_t *ev, int event_known, int app_known,
    xf_route_has_t *has)
{
    size_t                  i;
    const xf_route_rule_t  *r = &t->rules[rule];

    if (!event_known && r->event.nexact + r->event.nprefix
        && !xf_route_names_match(&r->event, &ev->name))
    {
        return 0;
    }

    if (!app_known && r->app.nexact + r->app.nprefix
        && !xf_route_names_match(&r->app, &ev->app))
    {
        return 0;
    }

    if (r->tier.nexact + r->tier.nprefix
        && !xf_route_names_match(&r->tier, &ev->tier))
    {
        return 0;
    }

    if (r->formats && !(r->formats & (1u << ev->format))) {
        return 0;
    }

    if (r->nhas == 0) {
        return 1;
    }

    if (t->has_keys != NULL) {
        if (!has->done) {
            has->present = xf_route_has_all(t, ev);
            has->done = 1;
        }

        return (has->present & t->has_need[rule]) == t->has_need[rule];
    }

    for (i = 0; i < r->nhas; i++) {
        if (!xf_route_has(ev, &r->has[i])) {
            return 0;
        }
    }

    return 1;
}


size_t
xf_route_match(const xf_route_table_t *t, const xf_route_event_t *ev,
    xf_route_target_t *out)
{
    int                     known;
    size_t                  ia, ib, ic, id, na, nb, nd, nout;
    uint32_t                ra, rb, rc, rd, rule;
    uint32_t                cand[XF_ROUTE_PREFIX_MAX];
    const uint32_t         *la, *lb, *ld;
    xf_route_has_t          has;
    const xf_route_rule_t  *r;
    const xf_route_slot_t  *sa, *sb;

    if (t == NULL || t->n == 0) {
        return 0;
    }

    has.done = 0;
    has.present = 0;

    sa = xf_route_index_find(&t->by_event, ev->name.data, ev->name.len);
    sb = xf_route_index_find(&t->by_app, ev->app.data, ev->app.len);

    la = sa ? sa->rules : NULL;
    na = sa ? sa->n : 0;
    lb = sb ? sb->rules : NULL;
    nb = sb ? sb->n : 0;

    /* prefix rules whose prefix the name starts with, from the trie */
    nd = xf_route_trie_match(t, &ev->name, cand);
    ld = cand;
    known = 1;

    if (nd == SIZE_MAX) {
        /* too many on one path: check them all, in order */
        ld = t->prefixed;
        nd = t->nprefixed;
        known = 0;
    }

    ia = ib = ic = id = nout = 0;

    /* merge the sorted candidate lists: rule order is match order */

    for ( ;; ) {
        ra = ia < na ? la[ia] : UINT32_MAX;
        rb = ib < nb ? lb[ib] : UINT32_MAX;
        rc = ic < t->nrest ? t->rest[ic] : UINT32_MAX;
        rd = id < nd ? ld[id] : UINT32_MAX;

        rule = xf_min(xf_min(ra, rb), xf_min(rc, rd));

        if (rule == UINT32_MAX) {
            break;
        }

        r = &t->rules[rule];

        if (rule == ra) {
            ia++;
            if (!xf_route_rule_match(t, rule, ev, 1, 0, &has)) {
                continue;
            }

        } else if (rule == rb) {
            ib++;
            if (!xf_route_rule_match(t, rule, ev, 1, 1, &has)) {
                continue;
            }

        } else if (rule == rd) {
            id++;
            if (!xf_route_rule_match(t, rule, ev, known, 0, &has)) {
                continue;
            }

        } else {
            ic++;
            if (!xf_route_rule_match(t, rule, ev, 0, 0, &has)) {
                continue;
            }
        }

        out[nout].topic = t->topics[rule];
        out[nout++].key = r->key;

        if (!r->copy || nout == XF_ROUTE_MAX_TARGETS) {
            break;
        }
    }

    return nout;
}


size_t
xf_route_count(const xf_route_table_t *t)
{
    return t ? t->n : 0;
}
