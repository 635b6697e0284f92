/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test.h - helpers for the end-to-end suites: an in-process Kafka
 * mock cluster and a consumer, an nginx master started from a config
 * snippet, and HTTP clients (libcurl and raw sockets for misbehaving
 * clients).
 *
 * Every helper is meant to run inside a check test (CK_FORK on, so each
 * test is its own process): failures are reported with ck_assert_* and end
 * the test; nothing here calls exit().  Objects are released by the
 * matching free or stop function, normally from the test's teardown.
 *
 * Environment:
 *   XFLOW_NGINX    nginx binary (default /usr/sbin/nginx)
 *   XFLOW_MODULE   absolute path of ngx_xflow_module.so; unset means no
 *                  load_module line (only useful to test these helpers)
 *   XFLOW_ASAN=1   the nginx binary is built with ASan/UBSan: pass it
 *                  sanitizer options and collect its reports (see
 *                  xf_test_nginx.c)
 *   XF_TEST_KEEP=1 keep nginx's temp prefix directories for inspection
 */

#ifndef XF_TEST_H
#define XF_TEST_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>


/* ------------------------------------------------------------- Kafka */

typedef struct {
    rd_kafka_t               *rk;       /* owns the mock cluster only */
    rd_kafka_mock_cluster_t  *mc;
    const char               *bootstraps;
    int                       brokers;  /* broker ids are 1..brokers */
} xf_kafka_t;

typedef struct {
    char    *name;
    void    *value;                 /* NULL for a NULL header value */
    size_t   value_len;
} xf_kafka_header_t;

/* A copy of one consumed message; key and value are NUL-terminated. */
typedef struct {
    int32_t             partition;
    int64_t             offset;
    char               *key;        /* NULL when the message has no key */
    size_t              key_len;
    char               *value;      /* NULL for a tombstone */
    size_t              value_len;
    xf_kafka_header_t  *headers;
    size_t              nheaders;
} xf_kafka_msg_t;

typedef struct {
    xf_kafka_msg_t     *msgs;
    size_t              n;
    size_t              cap;
} xf_kafka_msgs_t;

typedef struct xf_consumer_s  xf_consumer_t;

/*
 * Start a mock cluster of `brokers` brokers, in this process, listening
 * on ephemeral loopback ports.  librdkafka 2.0.2 cannot choose the port.
 */
xf_kafka_t *xf_kafka_start(int brokers);

/* Create topic with `partitions` partitions, replication factor 1. */
void xf_kafka_topic(xf_kafka_t *k, const char *topic, int partitions);

/* Add rtt_ms of latency to every response of every broker (0 removes). */
void xf_kafka_set_rtt(xf_kafka_t *k, int rtt_ms);

/* Take every broker down or bring them all back up. */
void xf_kafka_set_down(xf_kafka_t *k);
void xf_kafka_set_up(xf_kafka_t *k);

/*
 * An outage of the produce path (on 1): partitions 0..partitions-1 of
 * topic lose their leader, so every produce fails until on 0 gives them
 * broker 1 again.  (Taking the mock brokers down closes their listeners:
 * librdkafka 2.0.2's mock cluster re-binds each listener's port at once,
 * which the connections it just closed, or an ephemeral client port,
 * may still hold; under load it aborts.)
 */
void xf_kafka_set_leaderless(xf_kafka_t *k, const char *topic,
    int partitions, int on);

/*
 * The next n Produce requests, to any broker, fail with err (a broker's
 * answer: librdkafka reports it per message, as it would a real one).
 */
void xf_kafka_fail_produce(xf_kafka_t *k, size_t n, rd_kafka_resp_err_t err);

void xf_kafka_stop(xf_kafka_t *k);

/*
 * Sum of the high watermarks of all partitions of topic: the number of
 * messages the brokers hold, asked of the brokers now (no caching).
 */
int64_t xf_kafka_count(xf_kafka_t *k, const char *topic);

/*
 * A consumer that joins no group, assigned to every partition of topic from
 * the beginning.  Messages are appended to out across calls.
 */
xf_consumer_t *xf_consumer_new(xf_kafka_t *k, const char *topic);

/*
 * Read until out holds at least `expect` messages or timeout_ms passed.
 * Returns out->n.
 */
size_t xf_consumer_read(xf_consumer_t *c, xf_kafka_msgs_t *out,
    size_t expect, int timeout_ms);

/* Read for settle_ms more and fail the test if anything arrives. */
void xf_consumer_expect_quiet(xf_consumer_t *c, int settle_ms);

void xf_consumer_free(xf_consumer_t *c);

/*
 * One-shot: read topic from the beginning until `expect` messages
 * arrived (fails the test after timeout_ms otherwise), then for
 * settle_ms more; fails the test if the count is not exactly `expect`.
 * settle_ms 0 skips the exact-count check.
 */
void xf_kafka_consume(xf_kafka_t *k, const char *topic, size_t expect,
    int timeout_ms, int settle_ms, xf_kafka_msgs_t *out);

void xf_kafka_msgs_free(xf_kafka_msgs_t *m);


/* ------------------------------------------------------------- nginx */

typedef struct {
    char     dir[64];               /* prefix, no trailing slash */
    char     conf[128];
    char     log[128];
    char     url[64];               /* "http://127.0.0.1:<port>" */
    int      port;
    int      workers;
    pid_t    master;                /* 0 when not running */
} xf_nginx_t;

/*
 * Create a prefix directory and write nginx.conf: the standard frame
 * (load_module, worker_processes, error_log, pid, events, http with
 * client_body_temp_path and access_log) around http_snippet, in which
 * @PORT@ and @BROKERS@ are replaced (brokers may be NULL).  Does not
 * start nginx.
 */
/* A loopback TCP port that is free now. */
int xf_test_free_port(void);

xf_nginx_t *xf_nginx_new(const char *http_snippet, const char *brokers,
    int workers);

/*
 * Start the master; fails the test unless the port accepts and all the
 * workers are forked within 10 s.
 */
void xf_nginx_start(xf_nginx_t *n);

/* Rewrite nginx.conf with a new snippet (same frame, same port): then
 * xf_nginx_reload() applies it. */
void xf_nginx_write_conf(xf_nginx_t *n, const char *http_snippet,
    const char *brokers);

/*
 * SIGHUP, then wait until none of the old workers is listed as a child of
 * the master any more (they may still finish requests in flight: old
 * workers that shut down gracefully are reaped later) and the new ones
 * are up.
 */
void xf_nginx_reload(xf_nginx_t *n);

/* SIGQUIT and wait up to timeout_ms for the master, then SIGKILL. */
void xf_nginx_quit(xf_nginx_t *n, int timeout_ms);

/* The master's children; returns how many were stored in pids. */
size_t xf_nginx_workers(xf_nginx_t *n, pid_t *pids, size_t max);

/* SIGKILL one worker; returns its pid. */
pid_t xf_nginx_kill_worker(xf_nginx_t *n);

/*
 * Run `nginx -t` on this prefix and config.  Returns the exit status
 * (-1 if it did not exit normally); *output (caller frees) gets stdout
 * and stderr together.
 */
int xf_nginx_test_config(xf_nginx_t *n, char **output);

/*
 * Rewrite the config with http_snippet (NULL: keep it), then `nginx -t`
 * must refuse it and say needle.  Returns the output (caller frees).
 */
char *xf_nginx_refuses(xf_nginx_t *n, const char *http_snippet,
    const char *brokers, const char *needle);

/*
 * Fail the test if error.log or a sanitizer report holds an [alert],
 * [emerg], "AddressSanitizer", "runtime error:" or "LeakSanitizer".
 */
void xf_nginx_check_log(xf_nginx_t *n);

/* Whole error.log, NUL-terminated (caller frees). */
char *xf_nginx_read_log(xf_nginx_t *n);

/* Quit nginx if it runs, remove the directory unless XF_TEST_KEEP=1. */
void xf_nginx_free(xf_nginx_t *n);

/*
 * docs/deploy/nginx.conf for n (xf_test_shipped.c): the shipped file
 * with only ports (n's, and metrics_port for its metrics server), paths,
 * the brokers of the test's cluster, one worker in the foreground and
 * info-level logs in n's directory changed.  The text, caller frees.
 */
char *xf_shipped_conf_text(xf_nginx_t *n, int metrics_port);

/* The same with the privacy treatment and the error log level exactly
 * as shipped (notice), for the tests of what the shipped file keeps
 * out of Kafka and the logs. */
char *xf_shipped_conf_private(xf_nginx_t *n, int metrics_port);

/* Write it as n's nginx.conf: xflow_spool_after of the file, in ms. */
int xf_nginx_shipped_conf(xf_nginx_t *n, int metrics_port);

/* Write text as n's nginx.conf. */
void xf_nginx_conf_text(xf_nginx_t *n, const char *text);

/* Replace the only occurrence of from in text (freed; the test fails
 * otherwise): the new text. */
char *xf_replace_once(char *text, const char *from, const char *to);

/* A file that must exist, NUL-terminated; caller frees. */
char *xf_must_read_file(const char *path);


/* -------------------------------------------------------------- HTTP */

typedef struct {
    long     status;                /* 0 when no answer came */
    char    *body;                  /* NUL-terminated */
    size_t   body_len;
    char    *headers;               /* raw header block, NUL-terminated */
    size_t   headers_len;
} xf_http_resp_t;

/*
 * One request with libcurl.  headers is a NULL-terminated array of
 * "Name: value" lines (may be NULL).  A "Transfer-Encoding: chunked"
 * header makes libcurl send the body chunked.  "Expect: 100-continue" is
 * never sent.  Returns the status (0 on a transport error).
 */
long xf_http_request(const char *method, const char *url,
    const char *const *headers, const void *body, size_t len,
    xf_http_resp_t *resp);

/* Value of a response header (case-insensitive name), caller frees. */
char *xf_http_header(const xf_http_resp_t *resp, const char *name);

void xf_http_resp_free(xf_http_resp_t *resp);

/* An answer read from a raw socket. */
typedef struct {
    long     status;                /* 0 when no whole header came */
    char    *headers;               /* status line and header block */
    char    *body;
    size_t   body_len;
    int      closed;                /* the server closed after answering */
} xf_raw_resp_t;

/* Connect to 127.0.0.1:port: the socket, -1 (errno set) when refused. */
int xf_connect_loopback(int port);

/* Connect to 127.0.0.1:port with TCP_NODELAY; fails the test on error. */
int xf_raw_connect(int port);

/*
 * xf_raw_connect() from the loopback source address 127.0.0.<host>: the
 * server sees another client for each host.
 */
int xf_raw_connect_from(int port, int host);

/*
 * Build "POST path HTTP/1.1" with Host, the given extra header lines, a
 * Content-Length of content_length (or of len when content_length is -1)
 * and the body.  Caller frees; *out_len gets the length.
 */
char *xf_raw_build(const char *method, const char *path,
    const char *const *headers, const void *body, size_t len,
    long content_length, size_t *out_len);

/*
 * Send headers with Content-Length 10000 and 5000 bytes of body, then
 * close with a reset (SO_LINGER 0).
 */
void xf_raw_abort_mid_request(int port, const char *path);

/*
 * Send headers with Content-Length len * 2 and only len bytes of body,
 * then half-close and read the answer.  Returns its status (0: none).
 */
int xf_raw_short_body(int port, const char *path, const void *body,
    size_t len);

/* Send all of p (fails the test on an error). */
void xf_raw_write_all(int fd, const void *p, size_t len);

/*
 * Read one answer (bounded: 15 s): headers, then Content-Length bytes;
 * then, when wait_close is 1, or 0 and the answer says Connection: close,
 * on until the server closes, and set closed.  -1: never wait for that.
 */
void xf_raw_answer(int fd, int wait_close, xf_raw_resp_t *resp);

void xf_raw_resp_free(xf_raw_resp_t *resp);

/* Send a whole request and close at once, without reading the answer. */
void xf_raw_send_close(int port, const void *req, size_t len);

/*
 * Send a request `chunk` bytes at a time with delay_ms between writes,
 * then read the answer.  Returns its status (0: none); *body (may be
 * NULL, caller frees) gets the answer's body.
 */
int xf_raw_slow_request(int port, const void *req, size_t len,
    size_t chunk, int delay_ms, char **body);


/* ------------------------------------------------------ compression */

/*
 * Compress with zlib (gzip or zlib-wrapped or raw deflate), zstd or
 * brotli (quality 5, a 16 MiB window).  Caller frees; *out_len gets the
 * length.  zlib, libzstd and libbrotlienc are loaded at run time.
 */
typedef enum {
    XF_TEST_GZIP,
    XF_TEST_ZLIB,
    XF_TEST_RAW_DEFLATE,
    XF_TEST_ZSTD,
    XF_TEST_BR
} xf_test_codec_t;

void *xf_compress(xf_test_codec_t codec, const void *p, size_t len,
    size_t *out_len);

/*
 * A gzip body of a little over 64 KiB that decodes to n bytes (n at
 * least 64 KiB): a member of 64 KiB of incompressible bytes, then one of
 * spaces.  The module holds a smaller gzip body compressed until its end
 * (XF_DECODE_WHOLE_MAX) and decodes a larger one as it arrives: this is
 * the prefix a stalled client needs to hold decoded memory.  Caller
 * frees.
 */
u_char *xf_gzip_streamed_bomb(size_t n, size_t *out_len);


/* ----------------------------------------------------------- fixture */

/*
 * The test's broker cluster and nginx (xf_test_fixture.c).  Each test is
 * a forked child, so a suite's setup and teardown may simply use these.
 */
extern xf_kafka_t  *kafka;
extern xf_nginx_t  *nginx;

/*
 * Setup: a mock cluster of `brokers` brokers with the topics that follow
 * as (const char *name, int partitions) pairs, ended by NULL; nginx is
 * NULL.  The teardown gives nginx quit_ms to quit.
 */
void xf_fixture_setup(int brokers, int quit_ms, ...);

/* Create each of topics[0..n-1] with `partitions` partitions. */
void xf_fixture_topics(const char *const *topics, size_t n, int partitions);

/*
 * Teardown: quit nginx if there is one and fail the test on what its logs
 * hold (xf_nginx_check_log), free it, stop the cluster.
 */
void xf_fixture_teardown(void);

/* nginx from http_snippet (see xf_nginx_new) on the cluster, started. */
void xf_fixture_nginx(const char *http_snippet, int workers);

/*
 * A test case of s named name with this timeout (seconds; 0: the default)
 * and checked fixture (both may be NULL).
 */
TCase *xf_tcase(Suite *s, const char *name, int timeout,
    void (*setup)(void), void (*teardown)(void));

/* GET n's /metrics (must answer 200): the text, caller frees. */
char *xf_metrics_scrape(xf_nginx_t *n);

/*
 * Where the value of a series (name and labels exactly as rendered)
 * starts in a /metrics text; NULL when it is not exported.
 */
const char *xf_metrics_find(const char *text, const char *series);

/*
 * The value of a series; 0 for one not counted yet (labelled counters
 * show a series from its first count on) of a family that is exported.
 */
uint64_t xf_metrics_value(const char *text, const char *series);

/* Scrape n's /metrics and return the value of a series it must export. */
uint64_t xf_metrics_get(xf_nginx_t *n, const char *series);

/*
 * The SDK captures (XF_CAPTURES, or XF_TEST_CAPTURES from the root): up
 * to max *.json paths into files; returns how many.  xf_test_capture.c.
 */
#define XF_TEST_CAPTURES  "tests/fixtures/sdk-captures"

size_t xf_test_captures(char (*files)[512], size_t max);

/* Standard or URL-safe base64, padding optional; NULL on a bad byte. */
u_char *xf_base64_decode(const char *s, size_t len, size_t *out_len);

/*
 * A capture record's request: its method; its headers in wire order,
 * without Host, Content-Length and Connection (the client sets them), and
 * an empty "Content-Type:" when a body came without one (libcurl would
 * send its own); the body decoded from bodyBase64 (NULL: not base64).
 */
typedef struct {
    const char   *method;           /* borrowed from the record */
    char        **headers;          /* NULL-terminated */
    u_char       *body;
    size_t        len;
} xf_capture_req_t;

void xf_capture_req(json_t *rec, xf_capture_req_t *r);

/* Send it to url (a body only with POST or a non-empty one). */
long xf_capture_send(const xf_capture_req_t *r, const char *url,
    xf_http_resp_t *resp);

void xf_capture_req_free(xf_capture_req_t *r);

/*
 * Call add with the string value of every member named in keys
 * (NULL-terminated) anywhere in v, nested objects and arrays included:
 * the identifiers an upload carries, for the tests that look for them.
 */
void xf_json_strings_of(json_t *v, const char *const *keys,
    void (*add)(const char *s));

/*
 * Add a copy of v to set[0..*n) unless it is there already or shorter
 * than 8 bytes (it would match anything); max bounds *n (the test
 * fails beyond).
 */
void xf_str_set_add(char **set, size_t *n, size_t max, const char *v);

/* open, then parts[0..n-1] joined by sep, then close: malloc'd. */
char *xf_join(const char *const *parts, size_t n, const char *open,
    const char *sep, const char *close);

/* The repository's root: XFLOW_SRC, or "." */
const char *xf_test_src_dir(void);

/* Write text to path and chmod it to mode. */
void xf_write_file(const char *path, const char *text, mode_t mode);

/*
 * A whole file, NUL-terminated (caller frees), *len (may be NULL) its
 * length; NULL when it cannot be opened.
 */
char *xf_read_file(const char *path, size_t *len);

/* A symbol of a shared library, opened with dlopen; fails the test. */
void *xf_dlsym(const char *lib, const char *sym);


/* ------------------------------------------------------------ misc */

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t xf_now_ms(void);

void xf_sleep_ms(int ms);

#define xf_tmin(a, b)  ((a) < (b) ? (a) : (b))

/* Find NUL-terminated needle in haystack (hlen bytes); NULL if absent. */
const char *xf_memstr(const char *haystack, size_t hlen, const char *needle);

#endif /* XF_TEST_H */
