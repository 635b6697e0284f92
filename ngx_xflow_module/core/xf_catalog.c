/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_catalog.c - the event catalog's table (xf_catalog.h).
 *
 *   header | buckets[nbuckets] (uint32: entry index + 1, 0 ends) |
 *   entries[capacity]
 *
 * Entries are taken in order until the table is full; then a new name
 * takes the place of an evicted one, so no free list is needed.  A
 * chain is a bucket's list through the entries' next.
 */

#include <string.h>

#include "xf_catalog.h"
#include "xf_catalog_impl.h"


#define XF_CATALOG_MAGIC  0x78666361743031ULL   /* "xfcat01" */


static uint64_t xf_catalog_hash(uint64_t seed, xf_format_t format,
    const xf_str_t *app, const xf_str_t *name);
static xf_catalog_entry_t *xf_catalog_find(xf_catalog_t *cat, uint64_t hash,
    const xf_catalog_event_t *ev, unsigned *evicted, uint64_t now);
static xf_catalog_entry_t *xf_catalog_victim(xf_catalog_t *cat);
static void xf_catalog_unlink(xf_catalog_t *cat, xf_catalog_entry_t *e);
static void xf_catalog_props(xf_catalog_entry_t *e, const u_char *p,
    size_t len);
static void xf_catalog_prop(xf_catalog_entry_t *e, const u_char *name,
    size_t len, xf_json_type_t type);


static uint32_t
xf_catalog_nbuckets(uint32_t capacity)
{
    uint32_t  n;

    for (n = 1; n < capacity; n <<= 1) { /* void */ }

    return n;
}


static size_t
xf_catalog_entries_off(uint32_t nbuckets)
{
    size_t  off;

    off = sizeof(xf_catalog_t) + (size_t) nbuckets * sizeof(uint32_t);

    return (off + 7) & ~(size_t) 7;
}


size_t
xf_catalog_size_for(uint32_t capacity)
{
    return xf_catalog_entries_off(xf_catalog_nbuckets(capacity))
           + (size_t) capacity * sizeof(xf_catalog_entry_t);
}


uint32_t
xf_catalog_capacity_for(size_t size)
{
    uint32_t  lo, hi, mid;

    if (size < xf_catalog_size_for(1)) {
        return 0;
    }

    /* the buckets make the size a step function: search it */
    lo = 1;
    hi = (uint32_t) xf_min(size / sizeof(xf_catalog_entry_t) + 1,
                           (size_t) 1 << 24);

    while (lo < hi) {
        mid = lo + (hi - lo + 1) / 2;

        if (xf_catalog_size_for(mid) <= size) {
            lo = mid;

        } else {
            hi = mid - 1;
        }
    }

    return lo;
}


xf_catalog_t *
xf_catalog_init(void *mem, size_t size, uint64_t seed, uint64_t now)
{
    uint32_t       capacity;
    xf_catalog_t  *cat;

    capacity = xf_catalog_capacity_for(size);
    if (capacity == 0) {
        return NULL;
    }

    cat = mem;

    if (cat->magic == XF_CATALOG_MAGIC
        && cat->entry_size == sizeof(xf_catalog_entry_t)
        && cat->capacity == capacity
        && cat->nbuckets == xf_catalog_nbuckets(capacity)
        && cat->used <= capacity)
    {
        return cat;
    }

    memset(mem, 0, xf_catalog_size_for(capacity));

    cat->magic = XF_CATALOG_MAGIC;
    cat->entry_size = sizeof(xf_catalog_entry_t);
    cat->capacity = capacity;
    cat->nbuckets = xf_catalog_nbuckets(capacity);
    cat->seed = seed;
    cat->started = now;

    return cat;
}


size_t
xf_catalog_size(const xf_catalog_t *cat)
{
    return xf_catalog_size_for(cat->capacity);
}


uint32_t
xf_catalog_used(const xf_catalog_t *cat)
{
    return cat->used;
}


uint32_t
xf_catalog_capacity(const xf_catalog_t *cat)
{
    return cat->capacity;
}


uint64_t
xf_catalog_evicted(const xf_catalog_t *cat)
{
    return cat->evicted;
}


const char *
xf_catalog_plan_name(xf_catalog_plan_t plan)
{
    static const char *const  names[] = {
        "none", "conforms", "unknown", "invalid"
    };

    return (unsigned) plan < XF_CATALOG_PLAN_MAX ? names[plan] : "none";
}


unsigned
xf_catalog_record(xf_catalog_t *cat, const xf_catalog_event_t *ev,
    uint64_t now)
{
    unsigned             evicted;
    uint64_t             hash;
    xf_catalog_entry_t  *e;

    hash = xf_catalog_hash(cat->seed, ev->format, &ev->app, &ev->name);

    evicted = 0;
    e = xf_catalog_find(cat, hash, ev, &evicted, now);

    e->events++;
    e->bytes += ev->len;
    e->last_seen = now;
    cat->events++;
    cat->bytes += ev->len;

    if ((unsigned) ev->plan < XF_CATALOG_PLAN_MAX) {
        e->plan[ev->plan]++;
    }

    if (ev->error != XF_OK) {
        e->invalid++;
        cat->invalid++;

        if ((unsigned) ev->error < XF_STATUS_MAX) {
            e->reasons[ev->error]++;
        }

        return evicted;
    }

    if (ev->len && ev->p[0] == '{') {
        e->props_events++;
        xf_catalog_props(e, ev->p, ev->len);
    }

    return evicted;
}


/*
 * A seeded FNV-1a over the format, the app and the name, with murmur3's
 * finaliser: the seed keeps chains out of a client's reach.
 */
static uint64_t
xf_catalog_hash(uint64_t seed, xf_format_t format, const xf_str_t *app,
    const xf_str_t *name)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL ^ seed;
    h = (h ^ (uint64_t) format) * 0x100000001b3ULL;

    for (i = 0; i < app->len; i++) {
        h = (h ^ app->data[i]) * 0x100000001b3ULL;
    }

    /* a byte no UTF-8 text holds ends the app: "ab"+"c" is not "a"+"bc" */
    h = (h ^ 0xff) * 0x100000001b3ULL;

    for (i = 0; i < name->len; i++) {
        h = (h ^ name->data[i]) * 0x100000001b3ULL;
    }

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return h;
}


static int
xf_catalog_same(const xf_catalog_entry_t *e, uint64_t hash,
    const xf_catalog_event_t *ev)
{
    return e->hash == hash
           && e->format == (uint8_t) ev->format
           && e->app_full == ev->app.len
           && e->name_full == ev->name.len
           && memcmp(e->app, ev->app.data, e->app_len) == 0
           && memcmp(e->name, ev->name.data, e->name_len) == 0;
}


/* The event's entry: found, or made (in a free or an evicted place). */
static xf_catalog_entry_t *
xf_catalog_find(xf_catalog_t *cat, uint64_t hash,
    const xf_catalog_event_t *ev, unsigned *evicted, uint64_t now)
{
    uint32_t             b, i;
    xf_catalog_entry_t  *entries, *e;

    entries = xf_catalog_entries(cat);
    b = (uint32_t) hash & (cat->nbuckets - 1);

    for (i = xf_catalog_buckets(cat)[b]; i; i = e->next) {
        e = &entries[i - 1];

        if (xf_catalog_same(e, hash, ev)) {
            return e;
        }
    }

    if (cat->used < cat->capacity) {
        e = &entries[cat->used++];

    } else {
        e = xf_catalog_victim(cat);
        xf_catalog_unlink(cat, e);
        cat->evicted++;
        *evicted = 1;
    }

    memset(e, 0, sizeof(xf_catalog_entry_t));

    e->hash = hash;
    e->format = (uint8_t) ev->format;
    e->app_full = (uint32_t) ev->app.len;
    e->name_full = (uint32_t) ev->name.len;
    e->app_len = (uint8_t) xf_utf8_cut(ev->app.data, ev->app.len,
                                          XF_CATALOG_APP_MAX);
    e->name_len = (uint8_t) xf_utf8_cut(ev->name.data, ev->name.len,
                                           XF_CATALOG_NAME_MAX);
    if (e->app_len) {
        memcpy(e->app, ev->app.data, e->app_len);
    }

    if (e->name_len) {
        memcpy(e->name, ev->name.data, e->name_len);
    }

    e->first_seen = now;
    e->used = 1;

    e->next = xf_catalog_buckets(cat)[b];
    xf_catalog_buckets(cat)[b] = (uint32_t) (e - entries) + 1;

    return e;
}


/*
 * The least seen (fewest events, then the longest unseen) of
 * XF_CATALOG_SAMPLES entries from a cursor that moves on by as many at
 * each call: over the calls every entry is looked at in turn.
 */
static xf_catalog_entry_t *
xf_catalog_victim(xf_catalog_t *cat)
{
    uint32_t             i, k;
    xf_catalog_entry_t  *entries, *e, *min;

    entries = xf_catalog_entries(cat);
    min = NULL;

    for (k = 0; k < XF_CATALOG_SAMPLES && k < cat->capacity; k++) {
        i = (uint32_t) (cat->cursor++ % cat->capacity);
        e = &entries[i];

        if (min == NULL
            || e->events < min->events
            || (e->events == min->events && e->last_seen < min->last_seen))
        {
            min = e;
        }
    }

    return min;
}


static void
xf_catalog_unlink(xf_catalog_t *cat, xf_catalog_entry_t *e)
{
    uint32_t            *link, self;
    xf_catalog_entry_t  *entries;

    entries = xf_catalog_entries(cat);
    self = (uint32_t) (e - entries) + 1;
    link = &xf_catalog_buckets(cat)[(uint32_t) e->hash & (cat->nbuckets - 1)];

    while (*link && *link != self) {
        link = &entries[*link - 1].next;
    }

    if (*link == self) {
        *link = e->next;
    }
}


/*
 * The properties of one valid event object: "properties", else
 * "event_properties", else the event's own members.
 */
static void
xf_catalog_props(xf_catalog_entry_t *e, const u_char *p, size_t len)
{
    size_t          pos, name, name_end, n;
    xf_json_span_t  v;

    if ((xf_json_object_get(p, len, "properties", 10, &v) == XF_OK
         || xf_json_object_get(p, len, "event_properties", 16, &v) == XF_OK)
        && v.type == XF_JSON_OBJECT)
    {
        p += v.off;
        len = v.len;
    }

    pos = xf_json_ws(p, len, 1);

    for (n = 0; n < XF_CATALOG_EVENT_PROPS; n++) {
        if (pos >= len || p[pos] != '"') {
            return;
        }

        name = pos;

        if (xf_json_skip_value(p, len, &pos) != XF_OK) {
            return;
        }

        name_end = pos;
        pos = xf_json_ws(p, len, pos);

        if (pos >= len || p[pos] != ':') {
            return;
        }

        pos = xf_json_ws(p, len, pos + 1);

        if (pos >= len) {
            return;
        }

        xf_catalog_prop(e, p + name, name_end - name,
                        xf_json_type(p[pos]));

        if (xf_json_skip_value(p, len, &pos) != XF_OK) {
            return;
        }

        pos = xf_json_ws(p, len, pos);

        if (pos >= len || p[pos] != ',') {
            return;
        }

        pos = xf_json_ws(p, len, pos + 1);
    }
}


/*
 * Count one property (its name as a JSON string, quotes included) by
 * Space-Saving: found, or in a free place, or in the place of the least
 * counted, whose count it inherits plus one.
 */
static void
xf_catalog_prop(xf_catalog_entry_t *e, const u_char *name, size_t len,
    xf_json_type_t type)
{
    u_char              buf[XF_CATALOG_PROP_MAX * 4];
    size_t              n, i;
    xf_catalog_prop_t  *pr, *min;

    /* the name unescaped; a long one is cut, as it is kept */
    if (len - 2 <= sizeof(buf)
        && xf_json_string_unescape(name, len, buf, sizeof(buf), &n)
           == XF_OK)
    {
        name = buf;

    } else {
        /* too long to unescape here: its first bytes as sent */
        name++;
        n = len - 2;
    }

    len = n;
    n = xf_utf8_cut(name, len, XF_CATALOG_PROP_MAX);

    min = NULL;

    for (i = 0; i < XF_CATALOG_PROPS; i++) {
        pr = &e->props[i];

        if (pr->count == 0) {
            min = pr;
            break;
        }

        if (pr->name_len == n && pr->cut == (len > n)
            && memcmp(pr->name, name, n) == 0)
        {
            pr->count++;
            pr->types |= (uint8_t) (1u << type);
            return;
        }

        if (min == NULL || pr->count < min->count) {
            min = pr;
        }
    }

    min->count++;
    min->types = (uint8_t) (1u << type);
    min->name_len = (uint8_t) n;
    min->cut = len > n;
    memcpy(min->name, name, n);
}
