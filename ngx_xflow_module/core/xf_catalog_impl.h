/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_catalog_impl.h - the catalog's layout, shared by its table
 * (xf_catalog.c) and its renderer (xf_catalog_render.c).  Private to the
 * unit.
 */

#ifndef XF_CATALOG_IMPL_H
#define XF_CATALOG_IMPL_H

#include "xf_catalog.h"


typedef struct {
    uint64_t            count;
    uint8_t             name_len;
    uint8_t             types;      /* bit (1 << xf_json_type_t) per type */
    uint8_t             cut;        /* the name was longer */
    u_char              name[XF_CATALOG_PROP_MAX];
} xf_catalog_prop_t;


typedef struct {
    uint64_t            hash;
    uint32_t            next;       /* chain: entry index + 1, 0 ends */
    uint32_t            app_full;   /* lengths as sent: part of the key */
    uint32_t            name_full;
    uint8_t             used;
    uint8_t             format;
    uint8_t             app_len;    /* as kept */
    uint8_t             name_len;
    uint64_t            events;
    uint64_t            bytes;
    uint64_t            invalid;
    uint64_t            first_seen;
    uint64_t            last_seen;
    uint64_t            props_events;   /* valid objects read */
    uint64_t            reasons[XF_STATUS_MAX];
    uint64_t            plan[XF_CATALOG_PLAN_MAX];
    xf_catalog_prop_t   props[XF_CATALOG_PROPS];
    u_char              app[XF_CATALOG_APP_MAX];
    u_char              name[XF_CATALOG_NAME_MAX];
} xf_catalog_entry_t;


struct xf_catalog_s {
    uint64_t            magic;
    uint64_t            entry_size;     /* another build, another layout */
    uint64_t            seed;
    uint64_t            started;
    uint64_t            evicted;
    uint64_t            cursor;         /* where eviction samples next */
    uint64_t            events;
    uint64_t            bytes;
    uint64_t            invalid;
    uint32_t            capacity;
    uint32_t            nbuckets;       /* a power of two */
    uint32_t            used;
    uint32_t            pad;
};


static inline uint32_t *
xf_catalog_buckets(const xf_catalog_t *cat)
{
    return (uint32_t *) ((uintptr_t) cat + sizeof(xf_catalog_t));
}


static inline xf_catalog_entry_t *
xf_catalog_entries(const xf_catalog_t *cat)
{
    size_t  off;

    off = sizeof(xf_catalog_t) + (size_t) cat->nbuckets * sizeof(uint32_t);
    off = (off + 7) & ~(size_t) 7;

    return (xf_catalog_entry_t *) ((uintptr_t) cat + off);
}


#endif /* XF_CATALOG_IMPL_H */
