/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_kill.c - kill switches (xf_hygiene.h): rules read from directive
 * tokens, and the first rule an event meets.  Rules are few (an
 * incident's worth): they are scanned in order.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "xf_hygiene.h"
#include "xf_json.h"


static void
xf_kill_err(char *err, size_t err_len, const char *what, const xf_str_t *t)
{
    if (err_len) {
        snprintf(err, err_len, "%s \"%.*s\"", what, (int) t->len,
                 (const char *) t->data);
    }
}


/* "a,b,c" into strings from a; empty members are refused. */
static xf_status_t
xf_kill_list(const u_char *p, size_t len, const xf_alloc_t *a,
    xf_str_t **out, size_t *n)
{
    size_t         i, k, start;
    xf_str_t      *list;

    k = 1;

    for (i = 0; i < len; i++) {
        k += p[i] == ',';
    }

    list = a->alloc(a->data, (*n + k) * sizeof(xf_str_t));
    if (list == NULL) {
        return XF_ERR_NOMEM;
    }

    if (*n) {
        memcpy(list, *out, *n * sizeof(xf_str_t));
    }

    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != ',') {
            continue;
        }

        if (i == start) {
            return XF_ERR_FORM;
        }

        list[*n].data = p + start;
        list[*n].len = i - start;
        (*n)++;
        start = i + 1;
    }

    *out = list;

    return XF_OK;
}


static int
xf_kill_hex(u_char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}


xf_status_t
xf_kill_parse(const xf_str_t *tokens, size_t n, const xf_alloc_t *a,
    xf_kill_rule_t *rule, char *err, size_t err_len)
{
    size_t           i, j, k, vlen, nhex;
    xf_str_t        *hex;
    xf_status_t      st;
    unsigned         acted;
    const u_char    *v;
    const xf_str_t  *t;

    memset(rule, 0, sizeof(xf_kill_rule_t));
    acted = 0;

    for (i = 0; i < n; i++) {
        t = &tokens[i];

#define XF_KILL_IS(k)                                                       \
        (t->len > sizeof(k) - 1 && memcmp(t->data, k, sizeof(k) - 1) == 0) \
        && (v = t->data + sizeof(k) - 1, vlen = t->len - (sizeof(k) - 1), 1)

        if (t->len == 4 && memcmp(t->data, "drop", 4) == 0) {
            rule->action = XF_KILL_DROP;
            acted++;

        } else if (t->len == 11 && memcmp(t->data, "dead_letter", 11) == 0) {
            rule->action = XF_KILL_DEAD_LETTER;
            acted++;

        } else if (XF_KILL_IS("route=")) {
            rule->action = XF_KILL_ROUTE;
            rule->topic.data = v;
            rule->topic.len = vlen;
            acted++;

        } else if (XF_KILL_IS("app=")) {
            st = xf_kill_list(v, vlen, a, &rule->apps, &rule->napps);
            if (st != XF_OK) {
                xf_kill_err(err, err_len, "invalid app names in", t);
                return st;
            }

        } else if (XF_KILL_IS("event=")) {
            st = xf_kill_list(v, vlen, a, &rule->events, &rule->nevents);
            if (st != XF_OK) {
                xf_kill_err(err, err_len, "invalid event names in", t);
                return st;
            }

        } else if (XF_KILL_IS("id=")) {
            st = xf_kill_list(v, vlen, a, &rule->ids, &rule->nids);
            if (st != XF_OK) {
                xf_kill_err(err, err_len, "invalid event ids in", t);
                return st;
            }

        } else if (XF_KILL_IS("distinct_sha256=")) {
            hex = NULL;
            nhex = 0;

            st = xf_kill_list(v, vlen, a, &hex, &nhex);
            if (st != XF_OK) {
                xf_kill_err(err, err_len, "invalid hashes in", t);
                return st;
            }

            rule->distinct = a->alloc(a->data,
                                      (rule->ndistinct + nhex) * 32);
            if (rule->distinct == NULL) {
                return XF_ERR_NOMEM;
            }

            for (j = 0; j < nhex; j++) {
                if (hex[j].len != 64) {
                    xf_kill_err(err, err_len, "a SHA-256 is 64 hex digits, "
                                "not", &hex[j]);
                    return XF_ERR_FORM;
                }

                for (k = 0; k < 32; k++) {
                    int  hi = xf_kill_hex(hex[j].data[2 * k]);
                    int  lo = xf_kill_hex(hex[j].data[2 * k + 1]);

                    if (hi < 0 || lo < 0) {
                        xf_kill_err(err, err_len, "a SHA-256 is 64 hex "
                                    "digits, not", &hex[j]);
                        return XF_ERR_FORM;
                    }

                    rule->distinct[rule->ndistinct][k] =
                        (u_char) (hi << 4 | lo);
                }

                rule->ndistinct++;
            }

        } else {
            xf_kill_err(err, err_len, "unknown kill switch parameter", t);
            return XF_ERR_FORM;
        }

#undef XF_KILL_IS
    }

    if (acted != 1) {
        if (err_len) {
            snprintf(err, err_len, "a kill switch needs one of drop, "
                     "dead_letter or route=TOPIC");
        }

        return XF_ERR_FORM;
    }

    if (rule->napps + rule->nevents + rule->ndistinct + rule->nids == 0) {
        if (err_len) {
            snprintf(err, err_len, "a kill switch needs at least one of "
                     "app=, event=, distinct_sha256= or id=");
        }

        return XF_ERR_FORM;
    }

    return XF_OK;
}


static int
xf_kill_in(const xf_str_t *list, size_t n, const xf_str_t *v)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == v->len
            && (v->len == 0 || memcmp(list[i].data, v->data, v->len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* The event's id, unescaped into buf; an empty string for none. */
static void
xf_kill_event_id(const xf_kill_event_t *ev, u_char *buf, size_t cap,
    xf_str_t *id)
{
    size_t          k, n;
    uint32_t        found;
    xf_json_span_t  v[5];

    static const xf_json_key_t  keys[] = {
        { "uuid", 4 }, { "messageId", 9 }, { "$insert_id", 10 },
        { "insert_id", 9 }, { "event_id", 8 }
    };

    id->data = buf;
    id->len = 0;
    found = 0;

    if (xf_json_object_fields(ev->p, ev->len, keys, 5, v, &found) != XF_OK) {
        return;
    }

    for (k = 0; k < 5; k++) {
        if ((found & (1u << k)) && v[k].type == XF_JSON_STRING
            && xf_json_string_unescape(ev->p + v[k].off, v[k].len, buf, cap,
                                       &n)
               == XF_OK)
        {
            id->len = n;
            return;
        }
    }
}


ssize_t
xf_kill_match(const xf_kill_rule_t *rules, size_t n,
    const xf_kill_event_t *ev)
{
    u_char                 buf[128], md[EVP_MAX_MD_SIZE];
    size_t                 i, j;
    xf_str_t               id;
    unsigned               mdlen, hashed, looked;
    const xf_kill_rule_t  *r;

    hashed = 0;
    looked = 0;
    id.data = buf;
    id.len = 0;

    for (i = 0; i < n; i++) {
        r = &rules[i];

        if ((r->napps && !xf_kill_in(r->apps, r->napps, &ev->app))
            || (r->nevents && !xf_kill_in(r->events, r->nevents, &ev->name)))
        {
            continue;
        }

        if (r->nids) {
            if (!looked) {
                xf_kill_event_id(ev, buf, sizeof(buf), &id);
                looked = 1;
            }

            if (id.len == 0 || !xf_kill_in(r->ids, r->nids, &id)) {
                continue;
            }
        }

        if (r->ndistinct) {
            if (!hashed) {
                mdlen = 0;

                if (EVP_Digest(ev->distinct_id.data, ev->distinct_id.len, md,
                               &mdlen, EVP_sha256(), NULL)
                    != 1 || mdlen != 32)
                {
                    continue;
                }

                hashed = 1;
            }

            for (j = 0; j < r->ndistinct; j++) {
                if (memcmp(r->distinct[j], md, 32) == 0) {
                    break;
                }
            }

            if (j == r->ndistinct || ev->distinct_id.len == 0) {
                continue;
            }
        }

        return (ssize_t) i;
    }

    return -1;
}
