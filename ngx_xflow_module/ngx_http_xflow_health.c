/*
 * ngx_http_xflow_health.c - xflow_health: the check Traefik (or a
 * Kubernetes readiness probe) calls to take a node out and put it back.
 *
 *   200 {"status":"ok","brokers_up":3,"broker_seen_s":0,...}
 *   503 {"status":"unhealthy","reason":"no_broker","detail":"..."}
 *
 * Unhealthy when no Kafka broker has been reachable for longer than
 * xflow_health_broker_timeout, as this worker's producer sees it (every
 * worker talks to the same cluster), or when the spool is above its
 * high-water mark.
 */

#include "ngx_http_xflow_module.h"


ngx_int_t
ngx_http_xflow_health_handler(ngx_http_request_t *r)
{
    u_char                     *body, *p;
    time_t                      seen, ago;
    ngx_int_t                   rc;
    ngx_uint_t                  up;
    ngx_http_xflow_loc_conf_t  *lcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    body = ngx_pnalloc(r->pool, 256);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_xflow_kafka_state(&up, &seen) != NGX_OK) {
        /* no xflow_collect anywhere: nothing here depends on Kafka */
        p = ngx_sprintf(body, "{\"status\":\"ok\",\"collect\":false}");
        return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
    }

    ago = ngx_time() - seen;

    if (up == 0 && ago * 1000 > (time_t) lcf->health_broker_timeout) {
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"no_broker\",\"detail\":\"no Kafka broker "
                        "reachable for %T s\",\"brokers_up\":0}", ago);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    if (ngx_http_xflow_spool_high_water()) {
        p = ngx_sprintf(body, "{\"status\":\"unhealthy\",\"reason\":"
                        "\"spool_high_water\",\"detail\":\"the spool holds "
                        "%uL bytes, above its high-water mark\","
                        "\"brokers_up\":%ui}",
                        ngx_http_xflow_spool_bytes(), up);
        return ngx_http_xflow_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           body, p - body);
    }

    p = ngx_sprintf(body, "{\"status\":\"ok\",\"brokers_up\":%ui,"
                    "\"broker_seen_s\":%T,\"spool_bytes\":%uL}", up, ago,
                    ngx_http_xflow_spool_bytes());

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, p - body);
}
