/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_fixture.c - the fixture every e2e suite shares: a mock Kafka
 * cluster with the suite's topics, at most one nginx per test, and the
 * small helpers around them (the suite's test cases, /metrics samples,
 * strings, files).
 *
 * kafka and nginx are the test's own: each test is a forked child (CK_FORK
 * on), so the globals never outlive it.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xf_test.h"


xf_kafka_t  *kafka;
xf_nginx_t  *nginx;

static int   xf_fixture_quit_ms;


void
xf_fixture_setup(int brokers, int quit_ms, ...)
{
    int          partitions;
    va_list      ap;
    const char  *topic;

    kafka = xf_kafka_start(brokers);
    nginx = NULL;
    xf_fixture_quit_ms = quit_ms;

    va_start(ap, quit_ms);

    while ((topic = va_arg(ap, const char *)) != NULL) {
        partitions = va_arg(ap, int);
        xf_kafka_topic(kafka, topic, partitions);
    }

    va_end(ap);
}


void
xf_fixture_topics(const char *const *topics, size_t n, int partitions)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        xf_kafka_topic(kafka, topics[i], partitions);
    }
}


void
xf_fixture_teardown(void)
{
    if (nginx != NULL) {
        xf_nginx_quit(nginx, xf_fixture_quit_ms);
        xf_nginx_check_log(nginx);
        xf_nginx_free(nginx);
        nginx = NULL;
    }

    xf_kafka_stop(kafka);
}


void
xf_fixture_nginx(const char *http_snippet, int workers)
{
    nginx = xf_nginx_new(http_snippet, kafka->bootstraps, workers);
    xf_nginx_start(nginx);
}


TCase *
xf_tcase(Suite *s, const char *name, int timeout,
    void (*setup)(void), void (*teardown)(void))
{
    TCase  *tc;

    tc = tcase_create(name);

    if (setup != NULL || teardown != NULL) {
        tcase_add_checked_fixture(tc, setup, teardown);
    }

    if (timeout > 0) {
        tcase_set_timeout(tc, timeout);
    }

    suite_add_tcase(s, tc);

    return tc;
}


/* ------------------------------------------------------------ metrics */

char *
xf_metrics_scrape(xf_nginx_t *n)
{
    char            *url, *text;
    xf_http_resp_t   resp;

    ck_assert_int_ge(asprintf(&url, "%s/metrics", n->url), 0);
    xf_http_request("GET", url, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 200);

    text = resp.body;
    resp.body = NULL;
    xf_http_resp_free(&resp);
    free(url);

    return text;
}


const char *
xf_metrics_find(const char *text, const char *series)
{
    size_t       len;
    const char  *p;

    len = strlen(series);

    for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
        p += (*p == '\n');

        if (strncmp(p, series, len) == 0 && p[len] == ' ') {
            return p + len + 1;
        }
    }

    return NULL;
}


uint64_t
xf_metrics_value(const char *text, const char *series)
{
    const char  *v;

    char         type[160];
    size_t       n;

    v = xf_metrics_find(text, series);

    if (v == NULL) {
        /*
         * A labelled counter shows a series from its first count on:
         * absent reads 0, if the family is there at all (a typo fails).
         */
        n = strcspn(series, "{");
        snprintf(type, sizeof(type), "# TYPE %.*s ", (int) n, series);
        ck_assert_msg(strstr(text, type) != NULL,
                      "no series %s in /metrics", series);
        return 0;
    }

    return strtoull(v, NULL, 10);
}


uint64_t
xf_metrics_get(xf_nginx_t *n, const char *series)
{
    char      *text;
    uint64_t   v;

    text = xf_metrics_scrape(n);
    v = xf_metrics_value(text, series);
    free(text);

    return v;
}


/* -------------------------------------------------------------- misc */

char *
xf_join(const char *const *parts, size_t n, const char *open,
    const char *sep, const char *close)
{
    char    *p;
    size_t   i, len;

    len = strlen(open) + strlen(close) + 1;
    for (i = 0; i < n; i++) {
        len += strlen(parts[i]) + strlen(sep);
    }

    p = malloc(len);
    ck_assert_ptr_nonnull(p);

    strcpy(p, open);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            strcat(p, sep);
        }

        strcat(p, parts[i]);
    }

    strcat(p, close);

    return p;
}


const char *
xf_test_src_dir(void)
{
    const char  *s;

    s = getenv("XFLOW_SRC");
    return s ? s : ".";
}


void
xf_write_file(const char *path, const char *text, mode_t mode)
{
    FILE  *f;

    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}
