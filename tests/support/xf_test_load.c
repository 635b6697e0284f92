/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_load.c - the open-loop (and closed-loop) HTTP load client of
 * xf_load.h: one thread, non-blocking sockets, epoll.
 *
 * Latency is measured from when a request was due, not from when it
 * left: a client that could not send in time waited all the same (no
 * coordinated omission).  A request that fails on a reused keep-alive
 * connection before any byte of its answer is sent once more on a new
 * one, as browsers do.
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xf_load.h"


#define XF_LOAD_IN_MAX   8192

typedef enum {
    XF_CONN_FREE = 0,
    XF_CONN_CONNECTING,
    XF_CONN_SENDING,
    XF_CONN_READING,
    XF_CONN_IDLE
} xf_conn_state_t;


typedef struct {
    int               fd;
    xf_conn_state_t   state;
    size_t            req;          /* index in the result */
    int64_t           due;          /* the request's due time */
    char             *out;
    size_t            out_len, out_sent;
    char              in[XF_LOAD_IN_MAX];
    size_t            in_len;
    unsigned          reused:1;     /* served an answer before */
    unsigned          retried:1;    /* this request's second try */
} xf_conn_t;


typedef struct {
    const xf_load_conf_t  *conf;
    xf_load_result_t      *res;
    xf_conn_t             *conns;
    unsigned               nconns, open;
    unsigned              *idle;        /* stack of idle connections */
    unsigned               nidle;
    int                    ep;
    int64_t                start;
    char                  *head;        /* request line and headers */
    size_t                 head_len;
} xf_load_t;


static int64_t
xf_load_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
xf_load_watch(xf_load_t *l, unsigned i, int op, uint32_t events)
{
    struct epoll_event  ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u32 = i;

    return epoll_ctl(l->ep, op, l->conns[i].fd, &ev);
}


static void
xf_load_close(xf_load_t *l, unsigned i)
{
    unsigned    k;
    xf_conn_t  *c;

    c = &l->conns[i];

    if (c->state == XF_CONN_IDLE) {
        for (k = 0; k < l->nidle; k++) {
            if (l->idle[k] == i) {
                l->idle[k] = l->idle[--l->nidle];
                break;
            }
        }
    }

    (void) close(c->fd);
    free(c->out);
    c->out = NULL;
    c->fd = -1;
    c->state = XF_CONN_FREE;
    l->open--;
}


/* A free slot with a new connection that is connecting; -1: none. */
static int
xf_load_connect(xf_load_t *l)
{
    int                  fd, one;
    unsigned             i;
    struct sockaddr_in   sin;

    for (i = 0; i < l->nconns; i++) {
        if (l->conns[i].state == XF_CONN_FREE) {
            break;
        }
    }

    if (i == l->nconns) {
        return -1;
    }

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) l->conf->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        && errno != EINPROGRESS)
    {
        (void) close(fd);
        return -1;
    }

    l->conns[i].fd = fd;
    l->conns[i].state = XF_CONN_CONNECTING;
    l->conns[i].in_len = 0;
    l->conns[i].reused = 0;
    l->open++;
    l->res->conns_opened++;

    if (l->open > l->res->conns_max) {
        l->res->conns_max = l->open;
    }

    if (xf_load_watch(l, i, EPOLL_CTL_ADD, EPOLLOUT) == -1) {
        xf_load_close(l, i);
        return -1;
    }

    return (int) i;
}


/* The request bytes of result entry r: the head, then the body with the
 * id written over the 16 bytes after the marker; or the next of the raw
 * requests. */
static char *
xf_load_request(xf_load_t *l, size_t r, size_t *len)
{
    char        *out, *p, hex[17];
    size_t       k;
    const char  *m;

    if (l->conf->nraw) {
        k = r % l->conf->nraw;
        *len = l->conf->raw_len[k];

        out = malloc(*len);
        if (out != NULL) {
            memcpy(out, l->conf->raw[k], *len);
        }

        return out;
    }

    *len = l->head_len + l->conf->body_len;

    out = malloc(*len);
    if (out == NULL) {
        return NULL;
    }

    memcpy(out, l->head, l->head_len);
    p = out + l->head_len;
    memcpy(p, l->conf->body, l->conf->body_len);

    if (l->conf->marker != NULL) {
        m = memmem(p, l->conf->body_len, l->conf->marker,
                   strlen(l->conf->marker));

        if (m != NULL
            && (size_t) (m - p) + strlen(l->conf->marker) + 16
               <= l->conf->body_len)
        {
            snprintf(hex, sizeof(hex), "%016llx",
                     (unsigned long long) l->res->reqs[r].id);
            memcpy((char *) m + strlen(l->conf->marker), hex, 16);
        }
    }

    return out;
}


static void
xf_load_done(xf_load_t *l, size_t r, int status, int64_t due)
{
    xf_load_req_t  *q;

    q = &l->res->reqs[r];
    q->status = (int16_t) status;
    q->latency_ms = status ? (int32_t) (xf_load_now() - due) : -1;
}


/* Put request r on connection i (idle or new); 0, or -1: not sent. */
static int
xf_load_start(xf_load_t *l, size_t r, int64_t due, int retried)
{
    int         i;
    xf_conn_t  *c;

    if (l->nidle && !retried) {
        i = (int) l->idle[--l->nidle];
        c = &l->conns[i];
        c->state = XF_CONN_SENDING;

        if (xf_load_watch(l, (unsigned) i, EPOLL_CTL_MOD, EPOLLOUT) == -1) {
            xf_load_close(l, (unsigned) i);
            return -1;
        }

    } else {
        i = xf_load_connect(l);
        if (i == -1) {
            return -1;
        }

        c = &l->conns[i];
    }

    c->req = r;
    c->due = due;
    c->retried = retried;
    c->in_len = 0;
    c->out_sent = 0;
    c->out = xf_load_request(l, r, &c->out_len);

    if (c->out == NULL) {
        xf_load_close(l, (unsigned) i);
        return -1;
    }

    return 0;
}


/* A new result entry for the next request. */
static size_t
xf_load_next(xf_load_t *l, int64_t due)
{
    size_t          cap;
    xf_load_req_t  *q;

    if (l->res->n == l->res->cap) {
        cap = l->res->cap ? l->res->cap * 2 : 4096;
        q = realloc(l->res->reqs, cap * sizeof(xf_load_req_t));
        if (q == NULL) {
            abort();
        }

        l->res->reqs = q;
        l->res->cap = cap;
    }

    q = &l->res->reqs[l->res->n];
    memset(q, 0, sizeof(xf_load_req_t));
    q->id = l->conf->first_id + l->res->n;
    q->sent_ms = due - l->start;
    q->latency_ms = -1;

    return l->res->n++;
}


static void
xf_load_send(xf_load_t *l, int64_t due)
{
    size_t  r;

    r = xf_load_next(l, due);

    if (xf_load_start(l, r, due, 0) == -1) {
        l->res->reqs[r].not_sent = 1;
    }
}


/* The connection failed under its request: once more on a new one if
 * it was a reused keep-alive that had not answered at all. */
static void
xf_load_fail(xf_load_t *l, unsigned i)
{
    size_t      r;
    int64_t     due;
    xf_conn_t  *c;

    c = &l->conns[i];
    r = c->req;
    due = c->due;

    if (c->reused && !c->retried && c->in_len == 0) {
        xf_load_close(l, i);

        if (xf_load_start(l, r, due, 1) == 0) {
            return;
        }

        xf_load_done(l, r, 0, due);
        return;
    }

    xf_load_done(l, r, 0, due);
    xf_load_close(l, i);
}


/* A whole answer in c->in: its status, or 0 while it is incomplete. */
static int
xf_load_parse(xf_conn_t *c, int *keep)
{
    int          status;
    char        *end, *p, *line;
    size_t       head, clen;

    if (c->in_len < 12) {
        return 0;
    }

    end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (end == NULL) {
        return 0;
    }

    head = (size_t) (end - c->in) + 4;

    if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1) {
        return -1;
    }

    clen = 0;
    *keep = 1;

    for (line = memchr(c->in, '\n', head); line && line < end;
         line = memchr(line + 1, '\n', (size_t) (end - line)))
    {
        p = line + 1;

        if (strncasecmp(p, "Content-Length:", 15) == 0) {
            clen = strtoul(p + 15, NULL, 10);

        } else if (strncasecmp(p, "Connection: close", 17) == 0) {
            *keep = 0;
        }
    }

    if (c->in_len < head + clen) {
        return 0;
    }

    return status;
}


static void
xf_load_event(xf_load_t *l, unsigned i, uint32_t events, int sending)
{
    int         err, status, keep;
    ssize_t     n;
    socklen_t   len;
    xf_conn_t  *c;

    c = &l->conns[i];

    if (c->state == XF_CONN_CONNECTING) {
        err = 0;
        len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1
            || err != 0)
        {
            xf_load_fail(l, i);
            return;
        }

        c->state = XF_CONN_SENDING;
    }

    if (c->state == XF_CONN_SENDING && (events & EPOLLOUT)) {
        n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                 MSG_NOSIGNAL);

        if (n == -1) {
            if (errno != EAGAIN) {
                xf_load_fail(l, i);
            }

            return;
        }

        c->out_sent += (size_t) n;

        if (c->out_sent == c->out_len) {
            c->state = XF_CONN_READING;
            (void) xf_load_watch(l, i, EPOLL_CTL_MOD, EPOLLIN);
        }

        return;
    }

    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        return;
    }

    if (c->state == XF_CONN_IDLE) {
        /* the server closed a keep-alive connection */
        xf_load_close(l, i);
        return;
    }

    if (c->state != XF_CONN_READING) {
        return;
    }

    n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

    if (n == -1 && errno == EAGAIN) {
        return;
    }

    if (n <= 0) {
        xf_load_fail(l, i);
        return;
    }

    c->in_len += (size_t) n;

    status = xf_load_parse(c, &keep);

    if (status == 0 && c->in_len < sizeof(c->in)) {
        return;
    }

    xf_load_done(l, c->req, status > 0 ? status : 0, c->due);

    free(c->out);
    c->out = NULL;

    if (status <= 0 || !keep || !sending) {
        xf_load_close(l, i);
        return;
    }

    c->state = XF_CONN_IDLE;
    c->reused = 1;
    l->idle[l->nidle++] = i;
}


/* Answers not come within the timeout are counted as none. */
static void
xf_load_expire(xf_load_t *l, int64_t now)
{
    unsigned    i;
    xf_conn_t  *c;

    for (i = 0; i < l->nconns; i++) {
        c = &l->conns[i];

        if (c->state != XF_CONN_FREE && c->state != XF_CONN_IDLE
            && now - c->due > l->conf->timeout_ms)
        {
            xf_load_done(l, c->req, 0, c->due);
            xf_load_close(l, i);
        }
    }
}


static char *
xf_load_head(const xf_load_conf_t *conf, size_t *len)
{
    size_t              i, cap;
    char               *h;
    int                 n;

    cap = 256 + strlen(conf->path);

    for (i = 0; conf->headers && conf->headers[i]; i++) {
        cap += strlen(conf->headers[i]) + 2;
    }

    h = malloc(cap);
    if (h == NULL) {
        return NULL;
    }

    n = snprintf(h, cap, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n",
                 conf->path, conf->port);

    for (i = 0; conf->headers && conf->headers[i]; i++) {
        n += snprintf(h + n, cap - n, "%s\r\n", conf->headers[i]);
    }

    n += snprintf(h + n, cap - n, "Content-Length: %zu\r\n\r\n",
                  conf->body_len);
    *len = (size_t) n;

    return h;
}


int
xf_load_run(const xf_load_conf_t *conf, xf_load_result_t *res)
{
    int                  n, k, wait, sending;
    int64_t              now, due;
    unsigned             i;
    uint64_t             total, next;
    xf_load_t            l;
    xf_load_conf_t       c;
    struct epoll_event   evs[256];

    memset(res, 0, sizeof(xf_load_result_t));
    memset(&l, 0, sizeof(l));

    c = *conf;
    c.timeout_ms = c.timeout_ms ? c.timeout_ms : 30000;
    c.max_conns = c.max_conns ? c.max_conns : 4096;

    l.conf = &c;
    l.res = res;
    l.nconns = c.rate > 0 ? c.max_conns : c.conns;
    l.conns = calloc(l.nconns, sizeof(xf_conn_t));
    l.idle = calloc(l.nconns, sizeof(unsigned));
    l.head = xf_load_head(&c, &l.head_len);
    l.ep = epoll_create1(EPOLL_CLOEXEC);

    if (l.conns == NULL || l.idle == NULL || l.head == NULL || l.ep == -1
        || l.nconns == 0)
    {
        free(l.conns);
        free(l.idle);
        free(l.head);
        if (l.ep != -1) {
            close(l.ep);
        }
        errno = l.nconns ? ENOMEM : EINVAL;
        return -1;
    }

    total = c.rate > 0 ? (uint64_t) (c.rate * c.duration_ms / 1000) : 0;
    next = 0;
    l.start = xf_load_now();

    for ( ;; ) {
        now = xf_load_now();
        sending = now - l.start < c.duration_ms;
        wait = 5;

        if (c.rate > 0) {
            /* every request due by now, whatever the earlier ones do */
            while (next < total) {
                due = l.start + (int64_t) (next * 1000.0 / c.rate);

                if (due > now) {
                    wait = (int) (due - now);
                    break;
                }

                xf_load_send(&l, due);
                next++;
            }

            sending = next < total;

        } else if (sending) {
            /* closed loop: every connection busy again at once */
            while (l.nidle || l.open < l.nconns) {
                xf_load_send(&l, now);
                if (res->reqs[res->n - 1].not_sent) {
                    break;
                }
            }
        }

        xf_load_expire(&l, now);

        if (!sending && l.open == l.nidle) {
            break;
        }

        n = epoll_wait(l.ep, evs, 256, wait > 5 ? 5 : wait);

        for (k = 0; k < n; k++) {
            if (l.conns[evs[k].data.u32].state != XF_CONN_FREE) {
                xf_load_event(&l, evs[k].data.u32, evs[k].events,
                              sending);
            }
        }
    }

    res->elapsed_ms = xf_load_now() - l.start;

    for (i = 0; i < l.nconns; i++) {
        if (l.conns[i].state != XF_CONN_FREE) {
            xf_load_close(&l, i);
        }
    }

    free(l.conns);
    free(l.idle);
    free(l.head);
    close(l.ep);

    return 0;
}


static int
xf_load_cmp(const void *a, const void *b)
{
    int32_t  x = *(const int32_t *) a, y = *(const int32_t *) b;

    return (x > y) - (x < y);
}


void
xf_load_stats(const xf_load_result_t *res, int64_t from_ms, int64_t to_ms,
    xf_load_stats_t *st)
{
    size_t                i, n;
    int32_t              *lat;
    const xf_load_req_t  *q;

    memset(st, 0, sizeof(xf_load_stats_t));

    lat = malloc((res->n + 1) * sizeof(int32_t));
    if (lat == NULL) {
        abort();
    }

    for (i = 0, n = 0; i < res->n; i++) {
        q = &res->reqs[i];

        if (q->sent_ms < from_ms || q->sent_ms >= to_ms) {
            continue;
        }

        st->requests++;
        st->not_sent += q->not_sent;

        if (q->status == 0) {
            st->none++;
            continue;
        }

        lat[n++] = q->latency_ms;

        if (q->status >= 200 && q->status < 300) {
            st->ok++;

        } else if (st->other++ == 0) {
            st->first_other = q->status;
        }
    }

    if (n) {
        qsort(lat, n, sizeof(int32_t), xf_load_cmp);
        st->p50_ms = lat[n / 2];
        st->p99_ms = lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
        st->max_ms = lat[n - 1];
    }

    free(lat);
}


void
xf_load_free(xf_load_result_t *res)
{
    free(res->reqs);
    memset(res, 0, sizeof(xf_load_result_t));
}
