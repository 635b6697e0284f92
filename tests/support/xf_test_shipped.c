/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_shipped.c - docs/deploy/nginx.conf, the configuration users
 * are told to run, for a test's nginx: read from the repository and
 * changed only where a test must (ports, paths, brokers, one worker in
 * the foreground, logs in the test's directory).  Every change replaces
 * a line that must be there exactly once, so a test fails when the
 * shipped file drifts from what it assumes.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_test.h"


char *
xf_must_read_file(const char *path)
{
    char  *buf;

    buf = xf_read_file(path, NULL);
    ck_assert_msg(buf != NULL, "%s: %s", path, strerror(errno));

    return buf;
}


char *
xf_replace_once(char *text, const char *from, const char *to)
{
    char    *p, *out;
    size_t   flen, tlen, len;

    p = strstr(text, from);
    ck_assert_msg(p != NULL, "the config has no \"%s\"", from);
    ck_assert_msg(strstr(p + 1, from) == NULL,
                  "the config has \"%s\" more than once", from);

    flen = strlen(from);
    tlen = strlen(to);
    len = strlen(text);

    out = malloc(len - flen + tlen + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, p - text);
    memcpy(out + (p - text), to, tlen);
    memcpy(out + (p - text) + tlen, p + flen, len - (p - text) - flen + 1);
    free(text);

    return out;
}


/* The shipped file with the test's paths, ports and brokers; the error
 * log at level. */
static char *
xf_shipped_conf_at(xf_nginx_t *n, int metrics_port, const char *level)
{
    char         path[512], buf[512], *conf;
    const char  *module;

    snprintf(path, sizeof(path), "%s/docs/deploy/nginx.conf",
             xf_test_src_dir());
    conf = xf_must_read_file(path);

    module = getenv("XFLOW_MODULE");
    snprintf(buf, sizeof(buf), "load_module %s;", module ? module : "");
    conf = xf_replace_once(conf,
                "load_module /usr/lib/nginx/modules/ngx_http_xflow_module.so;",
                module ? buf : "");

    conf = xf_replace_once(conf, "worker_processes auto;",
                           "worker_processes 1;\ndaemon off;\n"
                           "master_process on;");

    snprintf(buf, sizeof(buf), "error_log %s %s;", n->log, level);
    conf = xf_replace_once(conf, "error_log /dev/stderr notice;", buf);

    snprintf(buf, sizeof(buf), "pid %s/nginx.pid;", n->dir);
    conf = xf_replace_once(conf, "pid /run/nginx.pid;", buf);

    snprintf(buf, sizeof(buf), "access_log %s/access.log xflow;", n->dir);
    conf = xf_replace_once(conf, "access_log /dev/stdout xflow;", buf);

    snprintf(buf, sizeof(buf), "http {\n    client_body_temp_path %s/body;",
             n->dir);
    conf = xf_replace_once(conf, "http {", buf);

    snprintf(buf, sizeof(buf), "xflow_kafka_brokers %s;", kafka->bootstraps);
    conf = xf_replace_once(conf, "xflow_kafka_brokers @KAFKA_BROKERS@;", buf);

    snprintf(buf, sizeof(buf), "listen 127.0.0.1:%d;", n->port);
    conf = xf_replace_once(conf, "listen 8080;", buf);

    snprintf(buf, sizeof(buf), "listen 127.0.0.1:%d;", metrics_port);
    conf = xf_replace_once(conf, "listen 9145;", buf);

    snprintf(buf, sizeof(buf), "%s/spool ", n->dir);
    conf = xf_replace_once(conf, "/var/spool/xflow ", buf);

    /* the key the container makes at first start (Dockerfile) */
    snprintf(path, sizeof(path), "%s/hash.key", n->dir);
    xf_write_file(path, "0123456789abcdef0123456789abcdef\n", 0400);
    snprintf(buf, sizeof(buf), "xflow_hash_key %s/hash.key;", n->dir);
    conf = xf_replace_once(conf, "xflow_hash_key      /etc/xflow/hash.key;",
                           buf);

    return conf;
}


char *
xf_shipped_conf_text(xf_nginx_t *n, int metrics_port)
{
    /*
     * The outage and load tests count what arrived by each event's
     * "uid", an identifier the standard treatment replaces by its
     * reference: they are about delivery.  xf_shipped_conf_private()
     * keeps the treatment as shipped.
     */
    return xf_replace_once(xf_shipped_conf_at(n, metrics_port, "info"),
                           "xflow_privacy       standard;",
                           "xflow_privacy       off;");
}


char *
xf_shipped_conf_private(xf_nginx_t *n, int metrics_port)
{
    return xf_shipped_conf_at(n, metrics_port, "notice");
}


void
xf_nginx_conf_text(xf_nginx_t *n, const char *text)
{
    FILE  *f;

    f = fopen(n->conf, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}


int
xf_nginx_shipped_conf(xf_nginx_t *n, int metrics_port)
{
    int    after;
    char  *conf, *p;

    conf = xf_shipped_conf_text(n, metrics_port);

    /* the deadline the shipped file states */
    p = strstr(conf, "xflow_spool_after ");
    ck_assert_msg(p != NULL, "the shipped config states no xflow_spool_after");
    ck_assert_int_eq(sscanf(p, "xflow_spool_after %ds;", &after), 1);

    xf_nginx_conf_text(n, conf);
    free(conf);

    return after * 1000;
}
