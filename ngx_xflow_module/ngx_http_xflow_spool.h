/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_spool.h - the disk spool of one worker: what Kafka could
 * not take is appended here and replayed when the brokers are back.  It
 * knows no batch: whoever waits for durability embeds a waiter.
 *
 * Every runtime function runs on the worker's event loop.
 */

#ifndef NGX_HTTP_XFLOW_SPOOL_H
#define NGX_HTTP_XFLOW_SPOOL_H

#include "ngx_http_xflow_module.h"


/**
 * @brief One wait for durability (fsync=interval): \p durable is called,
 * on the loop, once every record appended up to \p id is on disk (the
 * group commit after the append, within the fsync interval), or with
 * \p lost set when the commit that was to make them durable failed.  The
 * waiter is the caller's memory (embedded in what waits) and must stay
 * until it is called or ngx_http_xflow_spool_unwait().
 */
typedef struct ngx_http_xflow_spool_waiter_s  ngx_http_xflow_spool_waiter_t;

struct ngx_http_xflow_spool_waiter_s {
    ngx_queue_t                 queue;
    uint64_t                    id;         /* the last append's id */
    void                      (*durable)(ngx_http_xflow_spool_waiter_t *w);
    unsigned                    waiting:1;
    unsigned                    lost:1;     /* the commit failed */
};


/** @brief Open this worker's spool, adopt what dead workers left, start
 * the replay tick.  A spool that cannot be opened is logged and left
 * off (health says spool_unusable).  @returns NGX_OK or NGX_ERROR.
 * init_process, after the producer exists. */
ngx_int_t ngx_http_xflow_spool_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);

/** @brief From now on the spool only takes what the exit purges. */
void ngx_http_xflow_spool_exiting(void);

/** @brief Close the spool: what is left stays on disk for the next
 * worker.  exit_process, after the producer was destroyed. */
void ngx_http_xflow_spool_exit_process(ngx_cycle_t *cycle);

/** @brief In the master at start, reload and "nginx -t": a child with the
 * worker's identity writes a file in the spool directory.
 * @returns NGX_OK or NGX_ERROR (logged with the directive's file:line). */
ngx_int_t ngx_http_xflow_spool_check(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf);

/** @brief 1 when this worker has a spool it can write. */
ngx_int_t ngx_http_xflow_spool_enabled(void);
/** @brief 1 when xflow_spool is set, opened or not. */
ngx_int_t ngx_http_xflow_spool_configured(void);
/** @brief 1 at the spool's cap, or while Kafka is away and the spool's
 * disk refuses writes: requests are refused (backpressure). */
ngx_int_t ngx_http_xflow_spool_full(void);
/** @brief The errno of a write or fsync that failed in the last few
 * seconds (ENOSPC: the disk is full), else 0: for health. */
ngx_err_t ngx_http_xflow_spool_write_error(void);
/** @brief 1 above the high-water mark (health, with Kafka down). */
ngx_int_t ngx_http_xflow_spool_high_water(void);
/** @brief Bytes the spool holds. */
uint64_t ngx_http_xflow_spool_bytes(void);

/**
 * @brief Keep one message on disk; \p topic and \p dl_topic (where its
 * dead letter goes if Kafka refuses it for good on replay; NULL: none)
 * are NUL-terminated, nothing is referenced after the call.  \p series:
 * an event's message, marked for the ledger (XF_SPOOL_LEDGER_HEADER, with
 * its series' location and format), so that its replay, here or in
 * another life, settles it in its series; NGX_HTTP_XFLOW_LEDGER_NONE for
 * another message.  *id is its append id, for a waiter.
 *
 * @returns NGX_OK, or NGX_ERROR when there is no spool or the write
 * failed (logged).
 */
ngx_int_t ngx_http_xflow_spool_append(const char *topic,
    const char *dl_topic, const void *key, size_t key_len, const void *value,
    size_t value_len, uint64_t timestamp, uint32_t attempt, ngx_int_t series,
    uint64_t *id);

/**
 * @brief Wait until w->id is durable.
 * @returns NGX_OK (w->durable will be called), or NGX_DECLINED when it
 * already is (or there is no spool): go on now.
 */
ngx_int_t ngx_http_xflow_spool_wait(ngx_http_xflow_spool_waiter_t *w);

/** @brief Stop waiting (the waiter's owner goes away); idempotent. */
void ngx_http_xflow_spool_unwait(ngx_http_xflow_spool_waiter_t *w);

#endif /* NGX_HTTP_XFLOW_SPOOL_H */
