/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_health.c - xflow_health: the check Traefik (or a
 * Kubernetes readiness probe) calls to take a node out and put it back.
 * It answers "can this gateway accept events and keep them":
 *
 *   200 {"status":"ok","degraded":false,"brokers_up":3,...}
 *   200 {"status":"degraded","degraded":true,"reason":"spooling",...}
 *       Kafka is not taking events, the spool is: requests are answered
 *       once their events are on disk and replayed later
 *   503 {"status":"unhealthy","reason":"no_broker"|"never_connected"|
 *        "spool_full"|"spool_unusable","detail":"..."}
 *       no broker and no spool; the spool at its cap (requests are
 *       refused), or above its high-water mark with Kafka down; with
 *       Kafka down, a spool whose disk refused a write in the last few
 *       seconds (full: spool_full; any other error: spool_unusable); a
 *       spool configured that this worker could not open; no broker ever
 *       answered (never_connected: the broker list reaches nothing, which
 *       the spool must not hide)
 *
 * Kafka is down for health when this worker is spooling (a request's
 * events were not acknowledged within xflow_spool_after, and nothing was
 * delivered since), or when no broker has been reachable for longer than
 * xflow_health_broker_timeout as the producer's statistics see it.
 * Every worker talks to the same cluster, so one worker's view answers.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_health.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_spool.h"


ngx_int_t
ngx_http_xflow_health_handler(ngx_http_request_t *r)
{
    u_char                     *body, *p;
    time_t                      seen, ago, never;
    ngx_err_t                   err;
    ngx_int_t                   rc, spooling, down;
    ngx_uint_t                  up;
    ngx_http_xflow_loc_conf_t  *lcf;

    rc = ngx_http_xflow_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    body = ngx_pnalloc(r->pool, 384);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_xflow_kafka_state(&up, &seen) != NGX_OK) {
        /* no xflow_collect anywhere: nothing here depends on Kafka */
        p = ngx_sprintf(body, "{\"status\":\"ok\",\"collect\":false}");
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
    }

    ago = ngx_time() - seen;
    spooling = ngx_http_xflow_kafka_spooling();
    down = spooling
           || (up == 0 && ago * 1000 > (time_t) lcf->health_broker_timeout);

    if (ngx_http_xflow_spool_configured()
        && !ngx_http_xflow_spool_enabled())
    {
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"spool_unusable\",\"detail\":\"the spool could "
                        "not be opened (see the error log)\","
                        "\"brokers_up\":%ui}", up);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    never = ngx_http_xflow_kafka_never_connected(lcf->health_broker_timeout);

    if (never) {
        /* a wrong broker list: the spool would only hide it */
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"never_connected\",\"detail\":\"no Kafka broker "
                        "has answered since the worker started %T s ago: "
                        "check xflow_kafka_brokers\",\"brokers_up\":0}",
                        never);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    err = ngx_http_xflow_spool_write_error();

    if (err && down) {
        /* Kafka is away and the spool cannot take what arrives */
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"%s\",\"detail\":\"the spool cannot be "
                        "written: %s\",\"brokers_up\":%ui}",
                        err == NGX_ENOSPC || err == EDQUOT
                        ? "spool_full" : "spool_unusable",
                        strerror(err), up);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    if (ngx_http_xflow_spool_full()
        || (down && ngx_http_xflow_spool_high_water()))
    {
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"spool_full\",\"detail\":\"the spool holds "
                        "%uL bytes, above its high-water mark\","
                        "\"brokers_up\":%ui}",
                        ngx_http_xflow_spool_bytes(), up);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    if (down && !ngx_http_xflow_spool_enabled()) {
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"no_broker\",\"detail\":\"no Kafka broker "
                        "reachable for %T s and no spool\",\"brokers_up\":"
                        "%ui}", ago, up);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    if (down) {
        p = ngx_sprintf(body, "{\"status\":\"degraded\",\"degraded\":true,"
                        "\"reason\":\"%s\",\"detail\":\"Kafka is not "
                        "taking events: they are spooled\",\"brokers_up\":"
                        "%ui,\"broker_seen_s\":%T,\"spool_bytes\":%uL}",
                        spooling ? "spooling" : "no_broker", up, ago,
                        ngx_http_xflow_spool_bytes());
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
    }

    p = ngx_sprintf(body, "{\"status\":\"ok\",\"degraded\":false,"
                    "\"brokers_up\":%ui,\"broker_seen_s\":%T,"
                    "\"spool_bytes\":%uL}", up, ago,
                    ngx_http_xflow_spool_bytes());

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
}
