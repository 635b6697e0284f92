/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_dedup.c - the dedup window's table (xf_dedup.h).
 *
 *     +--------------------------+  offset 0
 *     | magic "XFDEDUP\0"        |
 *     | version | capacity       |
 *     | k0 | k1                  |  the SipHash key
 *     +--------------------------+  offset 32
 *     | slot 0 | slot 1 | ...    |  capacity slots of 16 bytes
 *     +--------------------------+
 *
 *     slot = key (64, 0: empty) | expiry (64, ms)
 *
 * A key lives in one of the XF_DEDUP_PROBES slots from its home slot.
 * Claiming a slot swaps its key in, then stores the expiry: a reader in
 * between sees the new key with the old slot's expiry, and at worst
 * takes a first copy for live (the worker that claims it is recording
 * that very key) or a live one for expired (a second copy goes through).
 * Neither loses an event.
 */

#include <string.h>

#include "xf_dedup.h"
#include "xf_json.h"
#include "xrl.h"


#define XF_DEDUP_MAGIC    0x0050554445444658ULL     /* "XFDEDUP\0" */
#define XF_DEDUP_VERSION  1


typedef struct {
    uint64_t    key;
    uint64_t    expiry;
} xf_dedup_slot_t;


struct xf_dedup_s {
    uint64_t            magic;
    uint32_t            version;
    uint32_t            capacity;
    uint64_t            k0;
    uint64_t            k1;
    xf_dedup_slot_t     slots[];
};


size_t
xf_dedup_size(uint32_t capacity)
{
    return sizeof(xf_dedup_t) + (size_t) capacity * sizeof(xf_dedup_slot_t);
}


xf_dedup_t *
xf_dedup_init(void *mem, size_t size, uint64_t k0, uint64_t k1)
{
    size_t       n;
    uint32_t     cap;
    xf_dedup_t  *t;

    if (size < xf_dedup_size(2 * XF_DEDUP_PROBES)) {
        return NULL;
    }

    n = (size - sizeof(xf_dedup_t)) / sizeof(xf_dedup_slot_t);

    for (cap = 2 * XF_DEDUP_PROBES; cap <= n / 2 && cap < 0x80000000u;
         cap *= 2)
    {
        /* void */
    }

    t = mem;

    if (t->magic == XF_DEDUP_MAGIC && t->version == XF_DEDUP_VERSION
        && t->capacity == cap)
    {
        return t;
    }

    memset(t, 0, xf_dedup_size(cap));
    t->version = XF_DEDUP_VERSION;
    t->capacity = cap;
    t->k0 = k0;
    t->k1 = k1;
    t->magic = XF_DEDUP_MAGIC;

    return t;
}


uint32_t
xf_dedup_capacity(const xf_dedup_t *t)
{
    return t->capacity;
}


/* The id members of each format's events, and whether one is nested. */
typedef struct {
    const char     *parent;         /* NULL: at the top */
    const char     *names[3];       /* all that are present are hashed */
} xf_dedup_ids_t;


static const xf_dedup_ids_t  xf_dedup_ids[XF_FMT_MAX] = {
    [XF_FMT_SENSORS] =   { NULL, { "_track_id", "time", "distinct_id" } },
    [XF_FMT_POSTHOG] =   { NULL, { "uuid", NULL, NULL } },
    [XF_FMT_SEGMENT] =   { NULL, { "messageId", NULL, NULL } },
    [XF_FMT_SNOWPLOW] =  { NULL, { "eid", NULL, NULL } },
    [XF_FMT_MIXPANEL] =  { "properties", { "$insert_id", NULL, NULL } },
    [XF_FMT_AMPLITUDE] = { NULL, { "insert_id", NULL, NULL } },
};


uint64_t
xf_dedup_event_key(const xf_dedup_t *t, xf_format_t f, const u_char *app,
    size_t app_len, const u_char *p, size_t len, int *by_id)
{
    int                    i, n;
    uint64_t               h;
    const u_char          *obj;
    size_t                 obj_len;
    xf_json_span_t         v;
    const xf_dedup_ids_t  *ids;

    /* the app first, then what tells its events apart */
    h = xrl_siphash24(app, app_len, t->k0, t->k1);
    n = 0;

    if ((unsigned) f < XF_FMT_MAX && xf_dedup_ids[f].names[0] != NULL) {
        ids = &xf_dedup_ids[f];
        obj = p;
        obj_len = len;

        if (ids->parent != NULL) {
            if (xf_json_object_get(p, len, ids->parent, strlen(ids->parent),
                                   &v)
                != XF_OK
                || v.type != XF_JSON_OBJECT)
            {
                obj_len = 0;

            } else {
                obj = p + v.off;
                obj_len = v.len;
            }
        }

        for (i = 0; obj_len && i < 3 && ids->names[i] != NULL; i++) {
            if (xf_json_object_get(obj, obj_len, ids->names[i],
                                   strlen(ids->names[i]), &v)
                != XF_OK
                || v.type == XF_JSON_NULL
                || (v.type == XF_JSON_STRING && v.len <= 2))
            {
                /* the id itself missing: the event's bytes instead */
                if (i == 0) {
                    break;
                }

                continue;
            }

            /* the value's JSON text: a number and a string differ */
            h = xrl_siphash24(obj + v.off, v.len, t->k0 ^ h, t->k1 + i);
            n++;
        }
    }

    if (by_id != NULL) {
        *by_id = n > 0;
    }

    if (n == 0) {
        h = xrl_siphash24(p, len, t->k0 ^ h, ~t->k1);
    }

    return h ? h : 1;
}


int
xf_dedup_seen(const xf_dedup_t *t, uint64_t key, uint64_t now)
{
    uint32_t                i, mask;
    const xf_dedup_slot_t  *s;

    mask = t->capacity - 1;

    for (i = 0; i < XF_DEDUP_PROBES; i++) {
        s = &t->slots[((uint32_t) key + i) & mask];

        if (__atomic_load_n(&s->key, __ATOMIC_ACQUIRE) == key) {
            return __atomic_load_n(&s->expiry, __ATOMIC_RELAXED) > now
                   ? XF_DEDUP_AGAIN : XF_DEDUP_FIRST;
        }
    }

    return XF_DEDUP_FIRST;
}


void
xf_dedup_set(xf_dedup_t *t, uint64_t key, uint64_t now, uint64_t window)
{
    uint32_t          i, mask;
    uint64_t          k, e, vexp;
    xf_dedup_slot_t  *s, *victim;

    mask = t->capacity - 1;
    victim = NULL;
    vexp = 0;

    for (i = 0; i < XF_DEDUP_PROBES; i++) {
        s = &t->slots[((uint32_t) key + i) & mask];
        k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

        if (k == key) {
            /* there already: renewed */
            __atomic_store_n(&s->expiry, now + window, __ATOMIC_RELEASE);
            return;
        }

        e = k ? __atomic_load_n(&s->expiry, __ATOMIC_RELAXED) : 0;

        /* empty or expired first, else the entry that expires first */
        if (victim == NULL || e < vexp) {
            victim = s;
            vexp = e;
        }
    }

    k = __atomic_load_n(&victim->key, __ATOMIC_ACQUIRE);

    /* a lost race leaves the other worker's key: a copy may go through */
    if (__atomic_compare_exchange_n(&victim->key, &k, key, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
        __atomic_store_n(&victim->expiry, now + window, __ATOMIC_RELEASE);
    }
}
