/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_load.h - an HTTP load client that behaves like a crowd of browsers
 * and apps, for the outage e2e tests and `make bench-spool`.
 *
 * Open loop (rate > 0): request i leaves at start + i / rate whatever
 * happened to the earlier ones, as independent clients do: a slow answer
 * piles up connections instead of slowing the load.  A connection that
 * finished its answer is reused (keep-alive) by a later request, else a
 * new one is opened, up to max_conns; a request due when every
 * connection is busy and max_conns are open is counted as not sent.
 *
 * Closed loop (rate 0): `conns` connections, each sending its next
 * request as soon as its answer came (the benchmarks' way, which hides
 * stalls: every client waits on the same slow path).
 *
 * Every request carries its own id (16 hex digits written over the
 * marker in the body), so what was acknowledged can be matched one by
 * one against what reached Kafka.  Plain C, epoll, one thread; no check
 * and no libcurl, so the bench tool links it too.
 */

#ifndef XF_LOAD_H
#define XF_LOAD_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    int                   port;         /* on 127.0.0.1 */
    const char           *path;         /* "/collect" */
    const char *const    *headers;      /* "Name: value" lines, NULL-ended;
                                           Host and Content-Length are
                                           added */
    const char           *body;
    size_t                body_len;
    const char           *marker;       /* in body: the 16 bytes after it
                                           get the request's id in hex;
                                           NULL: no id */
    double                rate;         /* requests/s; 0: closed loop */
    unsigned              conns;        /* closed loop: connections */
    unsigned              max_conns;    /* open loop: cap (0: 4096) */
    int                   duration_ms;
    int                   timeout_ms;   /* an answer later than this is
                                           counted as none (0: 30000) */
    uint64_t              first_id;
    const char *const    *raw;          /* nraw > 0: request i is raw[i %
                                           nraw] as it is (request line,
                                           headers, body), instead of
                                           path, headers and body */
    const size_t         *raw_len;
    size_t                nraw;
} xf_load_conf_t;


/* One request: when it left, how it ended. */
typedef struct {
    uint64_t              id;
    int64_t               sent_ms;      /* since the run started */
    int32_t               latency_ms;   /* -1: no answer */
    int16_t               status;       /* 0: none (refused, reset, timed
                                           out, not sent) */
    int16_t               not_sent;     /* no connection to send it on */
} xf_load_req_t;


typedef struct {
    xf_load_req_t        *reqs;         /* in the order they were due */
    size_t                n;
    size_t                cap;
    unsigned              conns_max;    /* most connections open at once */
    unsigned              conns_opened;
    int64_t               elapsed_ms;
} xf_load_result_t;


/* Summary of a result (or of the requests sent in [from_ms, to_ms)). */
typedef struct {
    size_t                requests;
    size_t                ok;           /* 2xx */
    size_t                other;        /* an answer that is not 2xx */
    size_t                none;         /* no answer, not sent included */
    size_t                not_sent;
    int                   first_other;  /* the first non-2xx status */
    int32_t               p50_ms, p99_ms, max_ms;   /* answered ones */
} xf_load_stats_t;


/*
 * Run the load to its end and until the last answer came or timed out.
 * Returns 0, or -1 with errno set when it could not start (the result
 * is then empty).  Free the result with xf_load_free().
 */
int xf_load_run(const xf_load_conf_t *conf, xf_load_result_t *res);

void xf_load_stats(const xf_load_result_t *res, int64_t from_ms,
    int64_t to_ms, xf_load_stats_t *st);

void xf_load_free(xf_load_result_t *res);

#endif /* XF_LOAD_H */
