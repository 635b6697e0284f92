/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics_impl.h - private to the metrics files: the registry, the
 * layout of the shared memory (header, broker names, cells) and the
 * family definitions.
 */

#ifndef XF_METRICS_IMPL_H
#define XF_METRICS_IMPL_H

#include <string.h>

#include "xf_metrics.h"


#define XF_METRICS_MAGIC   0x31304d4652544658ULL    /* "XFTRFM01" */

#define XF_BROKER_FREE     0
#define XF_BROKER_WRITING  1
#define XF_BROKER_READY    2


/* A broker name claimed in the shared header. */
typedef struct {
    uint32_t        state;
    uint32_t        len;
    u_char          name[XF_METRICS_NAME_MAX];
} xf_metrics_broker_t;

/* The start of the caller's memory; cells follow, 8-byte aligned. */
typedef struct {
    uint64_t             magic;
    uint64_t             hash;
    uint64_t             nslots;
    uint64_t             ncells;
    xf_metrics_broker_t  brokers[XF_METRICS_BROKERS_MAX];
} xf_metrics_hdr_t;


typedef struct {
    u_char         *data;
    size_t          len;
} xf_metrics_str_t;

typedef struct {
    xf_metrics_str_t  *v;
    size_t             n;
    size_t             cap;
} xf_metrics_dyn_t;

struct xf_metrics_s {
    xf_alloc_t          alloc;
    xf_metrics_dyn_t    topics;
    xf_metrics_dyn_t    zones;
    size_t              base[XF_M_MAX];     /* first cell of each family */
    size_t              ncells;             /* per slot */
    size_t              nslots;
    uint64_t            hash;
    u_char              codes[XF_METRICS_CODES][3];     /* "100".."599" */
    unsigned            frozen:1;
};

/* The broker up cell (xf_metrics_kafka_stats_apply): 0 is not listed. */
#define XF_BROKER_LISTED_DOWN   1
#define XF_BROKER_LISTED_UP     2


#define XF_NB(a)  (uint32_t) (sizeof(a) / sizeof((a)[0]))


/* xf_metrics.c: every family, indexed by xf_metric_id_t */
extern const xf_metric_def_t  xf_metric_defs[XF_M_MAX];

/*
 * xf_metrics.c: the text of a label value of a registry-held set;
 * brokers and workers are not (they are in the shared header and the
 * slot number).
 */
const u_char *xf_metrics_dim_value(const xf_metrics_t *m, xf_metric_dim_t dim,
    size_t i, size_t *len);


/* The cells of one slot. */
static inline uint64_t *
xf_metrics_cells(const xf_metrics_t *m, const void *mem, size_t slot)
{
    return (uint64_t *) ((u_char *) (uintptr_t) mem + sizeof(xf_metrics_hdr_t))
           + slot * m->ncells;
}

#endif /* XF_METRICS_IMPL_H */
