/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_spool.c - the disk spool: what Kafka could not take is
 * kept on local disk and replayed when the brokers are back, so nothing
 * a request was acknowledged for is lost (docs/operations.md, spool.md).
 *
 *   delivery failed  \
 *   queue full        > append (core/xf_spool.c) --> segment files
 *   worker exiting   /                                  |
 *                                 replay tick <---------+
 *                                   | brokers up, bounded in flight
 *                                   v
 *                          produce (copy) --> report: ack / append again
 *
 * One spool per worker, in its own files (the owner is the pid); spools
 * of workers that are gone are adopted by a live one.  Under ack=kafka a
 * request whose events were spooled is answered once they are durable
 * per xflow_spool's fsync=.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_spool.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_ledger.h"

#include "xf_spool.h"

#include <grp.h>
#include <sys/wait.h>


/*
 * The spool's work runs on three paces, none of which new work can push
 * back: the sync timer (group commit) fires fsync=interval after the
 * first append it has to make durable; the tick replays, adopts and
 * refreshes the metrics, fast while there is a backlog Kafka takes,
 * slower while Kafka is away and only probes go out, slowest when idle.
 */
#define NGX_HTTP_XFLOW_SPOOL_DRAIN_TICK  50       /* ms: replaying */
#define NGX_HTTP_XFLOW_SPOOL_TICK        250      /* ms: probing */
#define NGX_HTTP_XFLOW_SPOOL_IDLE_TICK   1000     /* ms: nothing spooled */
#define NGX_HTTP_XFLOW_SPOOL_ADOPT       5        /* s */
#define NGX_HTTP_XFLOW_SPOOL_INFLIGHT    2000     /* replayed, unreported */
#define NGX_HTTP_XFLOW_SPOOL_PROBES      16       /* in flight, spooling */
#define NGX_HTTP_XFLOW_SPOOL_WRITE_RETRY 1000     /* ms after a failed write */
#define NGX_HTTP_XFLOW_SPOOL_WRITE_SAYS  3000     /* ms health reports it */


/* Kinds of error-log lines, each throttled to one a second. */
typedef enum {
    NGX_HTTP_XFLOW_SPOOL_LOG_APPEND = 0,
    NGX_HTTP_XFLOW_SPOOL_LOG_SYNC,
    NGX_HTTP_XFLOW_SPOOL_LOG_ADOPT,
    NGX_HTTP_XFLOW_SPOOL_LOG_REPLAY,
    NGX_HTTP_XFLOW_SPOOL_LOG_KINDS
} ngx_http_xflow_spool_log_e;


/*
 * The record header naming where the dead letter of a record goes if
 * Kafka refuses it for good on replay: the xflow_dead_letter_topic of the
 * location that accepted it, which the replaying worker cannot know
 * otherwise.  Spool metadata: replays do not send it to Kafka.
 */
#define NGX_HTTP_XFLOW_SPOOL_DL_HEADER   "xflow-dead-letter-topic"


/* A replayed record on its way: the opaque of its message. */
typedef struct {
    ngx_http_xflow_opaque_t opaque;     /* first: the report */
    xf_spool_pos_t          pos;
    uint64_t                timestamp;
    uint32_t                attempt;
    int32_t                 series;     /* the ledger's, from its origin
                                           (XF_SPOOL_LEDGER_HEADER);
                                           NGX_HTTP_XFLOW_LEDGER_NONE:
                                           no event's */
    /* empty: the record names none (written before the header existed) */
    char                    dl_topic[XF_SPOOL_TOPIC_MAX + 1];
} ngx_http_xflow_replay_t;


typedef struct {
    xf_spool_t             *sp;
    ngx_event_t             tick;       /* replay, adoption, metrics */
    ngx_event_t             sync;       /* group commit, fsync=interval */
    ngx_queue_t             waiting;    /* of waiters, for durability */
    time_t                  adopted;    /* last adoption pass */
    ngx_uint_t              inflight;
    ngx_msec_t              probes_sent;    /* the oldest probe out */
    ngx_msec_t              replayed_at;    /* the last replay pass */
    ngx_uint_t              credit;         /* replays the rate allows */
    ngx_uint_t              replay_rate;    /* per second */
    ngx_msec_t              spool_after;
    ngx_err_t               write_err;      /* of the last write; 0: ok */
    ngx_msec_t              write_failed;   /* when */
    ngx_log_t              *log;
    ngx_str_t               owner;
    uint64_t                last_replayed;
    uint64_t                last_adopted;
    uint64_t                last_corrupt;
    ngx_http_xflow_throttle_t  throttle[NGX_HTTP_XFLOW_SPOOL_LOG_KINDS];
    unsigned                configured:1;   /* xflow_spool is set */
    unsigned                exiting:1;
} ngx_http_xflow_spool_worker_t;


static void ngx_http_xflow_spool_tick(ngx_event_t *ev);
static void ngx_http_xflow_spool_sync(ngx_event_t *ev);
static void ngx_http_xflow_spool_schedule(ngx_http_xflow_spool_worker_t *w);
static void ngx_http_xflow_spool_adopt(ngx_http_xflow_spool_worker_t *w,
    unsigned max);
static void ngx_http_xflow_spool_replay(ngx_http_xflow_spool_worker_t *w);
static void ngx_http_xflow_spool_release(ngx_http_xflow_spool_worker_t *w,
    ngx_uint_t lost);
static void ngx_http_xflow_spool_settle(ngx_http_xflow_replay_t *token,
    xf_ledger_cell_t fate);
static void ngx_http_xflow_spool_dl_topic(const xf_spool_record_t *rec,
    ngx_http_xflow_replay_t *token);
static ngx_uint_t ngx_http_xflow_spool_replayed(
    ngx_http_xflow_opaque_t *opaque, const rd_kafka_message_t *msg);
static void ngx_http_xflow_spool_metrics(ngx_http_xflow_spool_worker_t *w);
static void ngx_http_xflow_spool_log_error(ngx_http_xflow_spool_worker_t *w,
    ngx_http_xflow_spool_log_e kind, xf_spool_rc_t rc);


static ngx_http_xflow_spool_worker_t  ngx_http_xflow_spool_worker;


ngx_int_t
ngx_http_xflow_spool_init_process(ngx_cycle_t *cycle,
    ngx_http_xflow_main_conf_t *mcf)
{
    u_char                         *p;
    ngx_err_t                       err;
    xf_spool_rc_t                   rc;
    xf_spool_conf_t                 conf;
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;
    ngx_memzero(w, sizeof(ngx_http_xflow_spool_worker_t));

    if (mcf->spool == NULL) {
        return NGX_OK;
    }

    w->log = cycle->log;
    w->configured = 1;
    ngx_queue_init(&w->waiting);

    p = ngx_pnalloc(cycle->pool, NGX_INT64_LEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* the owner tag names this worker's files: its pid is unique */
    w->owner.data = p;
    w->owner.len = ngx_sprintf(p, "%P", ngx_pid) - p;
    p[w->owner.len] = '\0';

    ngx_memzero(&conf, sizeof(xf_spool_conf_t));
    conf.dir = (const char *) mcf->spool->name.data;
    conf.owner = (const char *) p;
    conf.max_size = mcf->spool_max_size;
    conf.fsync = mcf->spool_fsync;
    conf.fsync_interval = mcf->spool_fsync_interval;
    conf.alloc = &ngx_http_xflow_heap_allocator;
    /* the ledger's: what no count of it has yet is counted at adoption */
    conf.generation = ngx_http_xflow_ledger_generation();
    conf.foreign = ngx_http_xflow_ledger_adopted;

    rc = xf_spool_open(&w->sp, &conf);
    err = rc == XF_SPOOL_IO ? ngx_errno : 0;

    if (rc == XF_SPOOL_OK && access(conf.dir, W_OK | X_OK) == -1) {
        /* opened for reading, but no segment could ever be written */
        err = ngx_errno;
        (void) xf_spool_close(w->sp);
        rc = XF_SPOOL_IO;
    }

    if (rc != XF_SPOOL_OK) {
        /*
         * Without a spool the worker still serves while Kafka does, and
         * xflow_health answers 503 spool_unusable: this gateway cannot
         * keep what it would accept in an outage.
         */
        ngx_log_error(NGX_LOG_CRIT, cycle->log, err,
                      "xflow: spool \"%s\" (%s:%ui) cannot be opened as "
                      "user %d: %s", conf.dir, mcf->spool->conf_file,
                      mcf->spool->line, (int) geteuid(),
                      xf_spool_strerror(rc));
        w->sp = NULL;

        return NGX_OK;
    }

    w->replay_rate = mcf->spool_replay_rate;
    w->spool_after = mcf->spool_after;
    w->replayed_at = ngx_current_msec;

    /* what workers that are gone left behind, first */
    ngx_http_xflow_spool_adopt(w, 4);

    w->tick.handler = ngx_http_xflow_spool_tick;
    w->tick.data = w;
    w->tick.log = cycle->log;

    w->sync.handler = ngx_http_xflow_spool_sync;
    w->sync.data = w;
    w->sync.log = cycle->log;

    /* neither must keep an exiting worker alive: exit flushes */
    w->tick.cancelable = 1;
    w->sync.cancelable = 1;

    ngx_add_timer(&w->tick, NGX_HTTP_XFLOW_SPOOL_TICK);

    return NGX_OK;
}


/* After librdkafka was flushed and purged: what is left stays on disk. */
void
ngx_http_xflow_spool_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    if (w->sp == NULL) {
        return;
    }

    if (w->tick.timer_set) {
        ngx_del_timer(&w->tick);
    }

    if (w->sync.timer_set) {
        ngx_del_timer(&w->sync);
    }

    ngx_http_xflow_spool_metrics(w);

    (void) xf_spool_close(w->sp);
    w->sp = NULL;
}


void
ngx_http_xflow_spool_exiting(void)
{
    ngx_http_xflow_spool_worker.exiting = 1;
}


ngx_int_t
ngx_http_xflow_spool_enabled(void)
{
    return ngx_http_xflow_spool_worker.sp != NULL;
}


/* xflow_spool is set, whether or not this worker could open it. */
ngx_int_t
ngx_http_xflow_spool_configured(void)
{
    return ngx_http_xflow_spool_worker.configured;
}


/*
 * In the master, at "nginx -t", start and reload, after nginx created the
 * spool directory and gave it to the worker user: a child process with
 * the worker's identity creates, writes and removes a file there.  A
 * directory the workers cannot reach (a parent they may not traverse, a
 * read-only mount, a directory nginx does not own) fails the test with
 * the directive's file:line instead of leaving the workers without a
 * spool.
 */
ngx_int_t
ngx_http_xflow_spool_check(ngx_cycle_t *cycle, ngx_http_xflow_main_conf_t *mcf)
{
    int               status, fd, err;
    char              probe[NGX_MAX_PATH];
    pid_t             pid;
    const char       *user;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (ngx_snprintf((u_char *) probe, sizeof(probe) - 1,
                     "%V/.xflow-probe.%P%Z", &mcf->spool->name, ngx_pid)
        == (u_char *) probe + sizeof(probe) - 1)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "xflow_spool \"%V\" is too long in %s:%ui",
                      &mcf->spool->name, mcf->spool->conf_file,
                      mcf->spool->line);
        return NGX_ERROR;
    }

    user = geteuid() == 0 && ccf->username ? ccf->username : "(this user)";

    pid = fork();

    if (pid == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "xflow: fork() for the spool check failed");
        return NGX_ERROR;
    }

    if (pid == 0) {
        /* as the worker will be: ngx_worker_process_init() */
        if (geteuid() == 0 && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
            if (setgid(ccf->group) == -1
                || initgroups(ccf->username, ccf->group) == -1
                || setuid(ccf->user) == -1)
            {
                _exit(errno ? errno : EPERM);
            }
        }

        fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd == -1) {
            _exit(errno ? errno : EACCES);
        }

        err = write(fd, "x", 1) == 1 ? 0 : (errno ? errno : EIO);
        (void) close(fd);
        (void) unlink(probe);

        _exit(err);
    }

    while (waitpid(pid, &status, 0) == -1) {
        if (ngx_errno != NGX_EINTR) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "xflow: waitpid() for the spool check failed");
            return NGX_ERROR;
        }
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return NGX_OK;
    }

    err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;

    ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                  "xflow_spool \"%V\" cannot be written by the worker user "
                  "\"%s\" in %s:%ui", &mcf->spool->name, user,
                  mcf->spool->conf_file, mcf->spool->line);

    return NGX_ERROR;
}


/*
 * Requests are refused before their bodies are read: the spool is at its
 * cap, or Kafka is away and the spool's disk refused the last write (one
 * append a second still tries it: a freed disk is found again).
 */
ngx_int_t
ngx_http_xflow_spool_full(void)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    if (w->sp == NULL) {
        return 0;
    }

    return xf_spool_full(w->sp)
           || (w->write_err
               && ngx_current_msec - w->write_failed
                  < NGX_HTTP_XFLOW_SPOOL_WRITE_RETRY
               && ngx_http_xflow_kafka_spooling());
}


ngx_err_t
ngx_http_xflow_spool_write_error(void)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    if (w->sp == NULL || w->write_err == 0
        || ngx_current_msec - w->write_failed
           >= NGX_HTTP_XFLOW_SPOOL_WRITE_SAYS)
    {
        return 0;
    }

    return w->write_err;
}


ngx_int_t
ngx_http_xflow_spool_high_water(void)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    return w->sp != NULL && xf_spool_high_water(w->sp);
}


uint64_t
ngx_http_xflow_spool_bytes(void)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    return w->sp ? xf_spool_stats(w->sp)->bytes : 0;
}


/*
 * Keep one message on disk.  *id is its append id: durable once
 * xf_spool_durable() reaches it.  NGX_ERROR when there is no spool or
 * the write failed (logged, throttled).  After a failed write the disk
 * is tried again a second later: meanwhile appends fail at once, so a
 * full disk costs neither a write nor a log line per event.
 */
ngx_int_t
ngx_http_xflow_spool_append(const char *topic, const char *dl_topic,
    const void *key, size_t key_len, const void *value, size_t value_len,
    uint64_t timestamp, uint32_t attempt, ngx_int_t series, uint64_t *id)
{
    u_char                          origin[XF_LEDGER_ORIGIN_MAX];
    const char                     *call;
    xf_spool_rc_t                   rc;
    xf_spool_record_t               rec;
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    if (w->sp == NULL) {
        return NGX_ERROR;
    }

    if (w->write_err
        && ngx_current_msec - w->write_failed
           < NGX_HTTP_XFLOW_SPOOL_WRITE_RETRY)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&rec, offsetof(xf_spool_record_t, headers));
    rec.timestamp = timestamp;
    rec.attempt = attempt;
    rec.topic = (const u_char *) topic;
    rec.topic_len = ngx_strlen(topic);
    rec.key = key;
    rec.key_len = key ? key_len : 0;
    rec.value = value;
    rec.value_len = value ? value_len : 0;

    if (dl_topic != NULL && dl_topic[0] != '\0') {
        rec.nheaders = 1;
        rec.headers[0].name = (const u_char *) NGX_HTTP_XFLOW_SPOOL_DL_HEADER;
        rec.headers[0].name_len = sizeof(NGX_HTTP_XFLOW_SPOOL_DL_HEADER) - 1;
        rec.headers[0].value = (const u_char *) dl_topic;
        rec.headers[0].value_len = ngx_strlen(dl_topic);
    }

    if (series != NGX_HTTP_XFLOW_LEDGER_NONE) {
        /* its location and format: a replay counts it where it was */
        rec.headers[rec.nheaders].name = (const u_char *)
                                         XF_SPOOL_LEDGER_HEADER;
        rec.headers[rec.nheaders].name_len =
                                       sizeof(XF_SPOOL_LEDGER_HEADER) - 1;
        rec.headers[rec.nheaders].value = origin;
        rec.headers[rec.nheaders].value_len =
            ngx_http_xflow_ledger_origin((int32_t) series, origin);
        rec.nheaders++;
    }

    rc = xf_spool_append(w->sp, &rec, ngx_current_msec, id);

    if (rc != XF_SPOOL_OK) {
        if (rc == XF_SPOOL_IO) {
            w->write_err = xf_spool_errno(w->sp, &call);
            w->write_err = w->write_err ? w->write_err : EIO;
            w->write_failed = ngx_current_msec;
        }

        ngx_http_xflow_spool_log_error(w, NGX_HTTP_XFLOW_SPOOL_LOG_APPEND, rc);
        return NGX_ERROR;
    }

    w->write_err = 0;

    ngx_http_xflow_spool_schedule(w);

    return NGX_OK;
}


/*
 * After an append: the group commit is due fsync=interval after the
 * first record it has to make durable, and is never pushed back by later
 * ones; the tick is brought forward to the replay pace, never delayed.
 */
static void
ngx_http_xflow_spool_schedule(ngx_http_xflow_spool_worker_t *w)
{
    uint64_t    due;
    ngx_msec_t  now;

    now = ngx_current_msec;
    due = xf_spool_sync_due(w->sp);

    if (due && !w->sync.timer_set) {
        ngx_add_timer(&w->sync, due > now ? (ngx_msec_t) (due - now) : 1);
    }

    if (w->exiting) {
        return;
    }

    if (!w->tick.timer_set
        || (ngx_msec_int_t) (w->tick.timer.key - now)
           > NGX_HTTP_XFLOW_SPOOL_TICK)
    {
        if (w->tick.timer_set) {
            ngx_del_timer(&w->tick);
        }

        ngx_add_timer(&w->tick, NGX_HTTP_XFLOW_SPOOL_TICK);
    }
}


/*
 * Records not durable yet (fsync=interval): the group commit that makes
 * them so calls the waiter.
 */
ngx_int_t
ngx_http_xflow_spool_wait(ngx_http_xflow_spool_waiter_t *waiter)
{
    ngx_http_xflow_spool_worker_t  *w;

    w = &ngx_http_xflow_spool_worker;

    if (w->sp == NULL || waiter->id <= xf_spool_durable(w->sp)) {
        return NGX_DECLINED;
    }

    ngx_queue_insert_tail(&w->waiting, &waiter->queue);
    waiter->waiting = 1;
    waiter->lost = 0;

    if (!w->sync.timer_set) {
        /* a commit failed since the append: the next one decides */
        ngx_add_timer(&w->sync, 1);
    }

    return NGX_OK;
}


void
ngx_http_xflow_spool_unwait(ngx_http_xflow_spool_waiter_t *waiter)
{
    if (waiter->waiting) {
        ngx_queue_remove(&waiter->queue);
        waiter->waiting = 0;
    }
}


/*
 * Call the waiters whose records are durable; after a failed commit
 * (lost), also those whose records it was to make durable: the kernel
 * may have dropped them, so they are answered as not kept.
 */
static void
ngx_http_xflow_spool_release(ngx_http_xflow_spool_worker_t *w,
    ngx_uint_t lost)
{
    uint64_t                        durable;
    ngx_queue_t                    *q;
    ngx_http_xflow_spool_waiter_t  *waiter;

    durable = lost ? xf_spool_appended(w->sp) : xf_spool_durable(w->sp);

    while (!ngx_queue_empty(&w->waiting)) {
        q = ngx_queue_head(&w->waiting);
        waiter = ngx_queue_data(q, ngx_http_xflow_spool_waiter_t, queue);

        if (waiter->id > durable) {
            /* appended in order: the rest is later still */
            break;
        }

        ngx_queue_remove(q);
        waiter->waiting = 0;
        waiter->lost = lost && waiter->id > xf_spool_durable(w->sp);

        waiter->durable(waiter);
    }
}


/* The group commit: what was appended since the last one, in one fsync. */
static void
ngx_http_xflow_spool_sync(ngx_event_t *ev)
{
    uint64_t                        due;
    xf_spool_rc_t                   rc;
    ngx_http_xflow_spool_worker_t  *w;

    w = ev->data;

    if (w->sp == NULL) {
        return;
    }

    rc = xf_spool_sync(w->sp, ngx_current_msec);

    if (rc != XF_SPOOL_OK) {
        w->write_err = xf_spool_errno(w->sp, NULL);
        w->write_err = w->write_err ? w->write_err : EIO;
        w->write_failed = ngx_current_msec;
        ngx_http_xflow_spool_log_error(w, NGX_HTTP_XFLOW_SPOOL_LOG_SYNC, rc);
    }

    ngx_http_xflow_spool_release(w, rc != XF_SPOOL_OK);

    due = xf_spool_sync_due(w->sp);

    if (due && !w->sync.timer_set) {
        ngx_add_timer(&w->sync, due > ngx_current_msec
                                ? (ngx_msec_t) (due - ngx_current_msec) : 1);
    }
}


/* Segments of workers that are gone: taken over, and said so. */
static void
ngx_http_xflow_spool_adopt(ngx_http_xflow_spool_worker_t *w, unsigned max)
{
    uint64_t       records;
    unsigned       n;
    xf_spool_rc_t  rc;

    records = xf_spool_stats(w->sp)->adopted;

    rc = xf_spool_adopt(w->sp, max, &n);
    if (rc != XF_SPOOL_OK && rc != XF_SPOOL_AGAIN) {
        ngx_http_xflow_spool_log_error(w, NGX_HTTP_XFLOW_SPOOL_LOG_ADOPT, rc);
    }

    if (n) {
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "xflow: spool: adopted %ui segments (%uL events) of "
                      "workers that are gone, for replay", (ngx_uint_t) n,
                      xf_spool_stats(w->sp)->adopted - records);
    }

    /* more left: look again at the next tick */
    w->adopted = ngx_time() - (rc == XF_SPOOL_AGAIN
                               ? NGX_HTTP_XFLOW_SPOOL_ADOPT : 0);
}


static void
ngx_http_xflow_spool_tick(ngx_event_t *ev)
{
    ngx_msec_t                      next;
    ngx_http_xflow_spool_worker_t  *w;

    w = ev->data;

    if (w->sp == NULL) {
        return;
    }

    if (!w->exiting && !ngx_exiting && !ngx_quit
        && ngx_time() - w->adopted >= NGX_HTTP_XFLOW_SPOOL_ADOPT)
    {
        /* old workers keep their locks until they exit: look again */
        ngx_http_xflow_spool_adopt(w, 4);
    }

    if (!w->exiting) {
        ngx_http_xflow_spool_replay(w);
    }

    ngx_http_xflow_spool_metrics(w);

    if (w->exiting) {
        return;
    }

    if (xf_spool_stats(w->sp)->records == 0) {
        next = NGX_HTTP_XFLOW_SPOOL_IDLE_TICK;

    } else if (ngx_http_xflow_kafka_spooling()) {
        next = NGX_HTTP_XFLOW_SPOOL_TICK;

    } else {
        next = NGX_HTTP_XFLOW_SPOOL_DRAIN_TICK;
    }

    ngx_add_timer(&w->tick, next);
}


/*
 * Replay in order, at xflow_spool's replay_rate, with a bounded number of
 * records in flight.  While Kafka is away (spooling, or no broker seen),
 * a few records go out as probes whatever the statistics say, so that a
 * broker that comes back is found by librdkafka's reconnect, not by the
 * next statistics; probes out longer than xflow_spool_after and a second
 * are purged back to the spool.  Records keep their envelope (and its
 * id): replays are at-least-once, and downstream drops duplicates by id.
 */
static void
ngx_http_xflow_spool_replay(ngx_http_xflow_spool_worker_t *w)
{
    u_char                    topic[XF_SPOOL_TOPIC_MAX + 1];
    uint64_t                  id;
    time_t                    seen;
    ngx_msec_t                now;
    ngx_uint_t                up, probing, limit, credit;
    xf_spool_rc_t             rc;
    xf_spool_pos_t            pos;
    xf_spool_record_t         rec;
    rd_kafka_resp_err_t       err;
    ngx_http_xflow_replay_t  *token;
    const xf_spool_header_t  *h;

    if (ngx_http_xflow_kafka_state(&up, &seen) != NGX_OK) {
        return;
    }

    now = ngx_current_msec;

    probing = ngx_http_xflow_kafka_spooling()
              || (up == 0 && ngx_time() - seen > 2);

    if (probing && w->inflight
        && now - w->probes_sent >= w->spool_after + 1000)
    {
        /* reported failed, they go back to the tail of the spool */
        ngx_http_xflow_kafka_purge();
        return;
    }

    /* the rate's credit, at most a fifth of a second's worth */
    credit = w->credit + (ngx_uint_t) ((uint64_t) w->replay_rate
                                       * (now - w->replayed_at) / 1000);
    w->credit = ngx_min(credit, w->replay_rate / 5 + 1);
    w->replayed_at = now;

    limit = probing ? NGX_HTTP_XFLOW_SPOOL_PROBES
                    : NGX_HTTP_XFLOW_SPOOL_INFLIGHT;

    while (w->credit) {

        if (w->inflight >= limit || !ngx_http_xflow_kafka_queue_room(1)) {
            return;
        }

        rc = xf_spool_next(w->sp, &rec, &pos);

        if (rc == XF_SPOOL_EMPTY) {
            return;
        }

        if (rc != XF_SPOOL_OK) {
            ngx_http_xflow_spool_log_error(w, NGX_HTTP_XFLOW_SPOOL_LOG_REPLAY,
                                           rc);
            return;
        }

        ngx_memcpy(topic, rec.topic, rec.topic_len);
        topic[rec.topic_len] = '\0';

        token = ngx_alloc(sizeof(ngx_http_xflow_replay_t), w->log);
        if (token == NULL) {
            return;
        }

        token->opaque.report = ngx_http_xflow_spool_replayed;
        token->pos = pos;
        token->timestamp = rec.timestamp;
        token->attempt = rec.attempt;
        ngx_http_xflow_spool_dl_topic(&rec, token);
        h = xf_spool_record_header(&rec, XF_SPOOL_LEDGER_HEADER);
        token->series = h ? ngx_http_xflow_ledger_origin_series(h->value,
                                                                h->value_len)
                          : NGX_HTTP_XFLOW_LEDGER_NONE;

        err = ngx_http_xflow_kafka_produce_copy((char *) topic, rec.key,
                                                rec.key_len, rec.value,
                                                rec.value_len,
                                                &token->opaque);

        w->credit--;

        if (ngx_http_xflow_kafka_refused_for_good(err)) {
            /* message.max.bytes lowered since it was spooled, say */
            ngx_http_xflow_kafka_refused(w->log, token->dl_topic,
                                         (char *) topic, rec.value,
                                         rec.value_len, rec.timestamp, err);
            (void) xf_spool_ack(w->sp, &pos);
            ngx_http_xflow_spool_settle(token, XF_LEDGER_FAILED);
            ngx_free(token);
            continue;
        }

        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* to the tail again, so the segment can go */
            if (ngx_http_xflow_spool_append((char *) topic, token->dl_topic,
                                            rec.key, rec.key_len, rec.value,
                                            rec.value_len, rec.timestamp,
                                            rec.attempt, token->series, &id)
                == NGX_OK)
            {
                (void) xf_spool_ack(w->sp, &pos);
            }

            ngx_free(token);
            return;
        }

        if (w->inflight++ == 0) {
            w->probes_sent = now;
        }
    }
}


/* The delivery report of a replayed record: its fate, for the metrics. */
static ngx_uint_t
ngx_http_xflow_spool_replayed(ngx_http_xflow_opaque_t *opaque,
    const rd_kafka_message_t *msg)
{
    uint64_t                        id;
    ngx_uint_t                      fate;
    ngx_http_xflow_replay_t        *token;
    ngx_http_xflow_spool_worker_t  *w;

    token = (ngx_http_xflow_replay_t *) opaque;
    w = &ngx_http_xflow_spool_worker;

    if (w->inflight) {
        w->inflight--;
    }

    if (w->sp == NULL) {
        /* closed: the record stays on disk for a later life */
        ngx_free(token);
        return msg->err ? XF_METRICS_KAFKA_SPOOLED
                        : XF_METRICS_KAFKA_DELIVERED;
    }

    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (void) xf_spool_ack(w->sp, &token->pos);
        ngx_http_xflow_spool_settle(token, XF_LEDGER_DELIVERED);
        fate = XF_METRICS_KAFKA_DELIVERED;

    } else if (ngx_http_xflow_kafka_refused_for_good(msg->err)) {
        /* replaying cannot help: it leaves the spool with its notice */
        ngx_http_xflow_kafka_refused(w->log, token->dl_topic,
                                     rd_kafka_topic_name(msg->rkt),
                                     msg->payload, msg->len,
                                     token->timestamp, msg->err);
        (void) xf_spool_ack(w->sp, &token->pos);
        ngx_http_xflow_spool_settle(token, XF_LEDGER_FAILED);
        fate = XF_METRICS_KAFKA_FAILED;

    } else {
        if (ngx_http_xflow_spool_append(rd_kafka_topic_name(msg->rkt),
                                        token->dl_topic,
                                        msg->key, msg->key_len,
                                        msg->payload, msg->len,
                                        token->timestamp,
                                        token->attempt + 1, token->series,
                                        &id)
            == NGX_OK)
        {
            /* failed again: kept at the tail, its old place released */
            (void) xf_spool_ack(w->sp, &token->pos);

        } else if (ngx_http_xflow_kafka_produce_copy(
                       rd_kafka_topic_name(msg->rkt), msg->key,
                       msg->key_len, msg->payload, msg->len, &token->opaque)
                   == RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            /*
             * The disk takes nothing (full): the record stays where it
             * is and goes out again, still handed out, so that this
             * worker delivers it once Kafka is back instead of leaving
             * it to whoever adopts the segment.
             */
            w->inflight++;
            return XF_METRICS_KAFKA_SPOOLED;
        }

        /* else it stays where it is, for a later life of the spool */
        fate = XF_METRICS_KAFKA_SPOOLED;
    }

    ngx_free(token);

    return fate;
}


/*
 * A replayed record left the spool for good: an event's, in the ledger
 * (wherever it was spooled, in this life: the start counted the rest).
 */
static void
ngx_http_xflow_spool_settle(ngx_http_xflow_replay_t *token,
    xf_ledger_cell_t fate)
{
    if (token->series != NGX_HTTP_XFLOW_LEDGER_NONE) {
        ngx_http_xflow_ledger_move(token->series, XF_LEDGER_SPOOLED, fate, 1);
    }
}


/* Where the record says its dead letter goes, if anywhere. */
static void
ngx_http_xflow_spool_dl_topic(const xf_spool_record_t *rec,
    ngx_http_xflow_replay_t *token)
{
    const xf_spool_header_t  *h;

    token->dl_topic[0] = '\0';

    h = xf_spool_record_header(rec, NGX_HTTP_XFLOW_SPOOL_DL_HEADER);

    if (h != NULL && h->value != NULL && h->value_len > 0
        && h->value_len <= XF_SPOOL_TOPIC_MAX)
    {
        ngx_memcpy(token->dl_topic, h->value, h->value_len);
        token->dl_topic[h->value_len] = '\0';
    }
}


static void
ngx_http_xflow_spool_metrics(ngx_http_xflow_spool_worker_t *w)
{
    const xf_spool_stats_t  *st;

    st = xf_spool_stats(w->sp);

    ngx_http_xflow_metric_set(XF_M_SPOOL_BYTES, 0, 0, st->bytes);
    ngx_http_xflow_metric_set(XF_M_SPOOL_RECORDS, 0, 0, st->records);

    ngx_http_xflow_metric_add(XF_M_SPOOL_REPLAYED, 0, 0,
                              st->replayed - w->last_replayed);
    ngx_http_xflow_metric_add(XF_M_SPOOL_ADOPTED, 0, 0,
                              st->adopted - w->last_adopted);
    ngx_http_xflow_metric_add(XF_M_SPOOL_CORRUPT, 0, 0,
                              st->corrupt - w->last_corrupt);

    w->last_replayed = st->replayed;
    w->last_adopted = st->adopted;
    w->last_corrupt = st->corrupt;
}


/* One line a second per kind: a full disk fails every append. */
static void
ngx_http_xflow_spool_log_error(ngx_http_xflow_spool_worker_t *w,
    ngx_http_xflow_spool_log_e kind, xf_spool_rc_t rc)
{
    int                err;
    const char        *call, *what;
    ngx_uint_t         suppressed;
    static const char *kinds[] = { "append", "sync", "adopt", "replay" };

    if (!ngx_http_xflow_throttle(&w->throttle[kind], &suppressed)) {
        return;
    }

    what = kinds[kind];
    call = NULL;
    err = w->sp ? xf_spool_errno(w->sp, &call) : 0;

    if (err) {
        ngx_log_error(NGX_LOG_ERR, w->log, err,
                      "xflow: spool %s: %s (%s; %ui similar lines "
                      "suppressed)", what, xf_spool_strerror(rc), call,
                      suppressed);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, w->log, 0,
                  "xflow: spool %s: %s (%ui similar lines suppressed)",
                  what, xf_spool_strerror(rc), suppressed);
}
