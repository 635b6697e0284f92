/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_directives.h - the collection module's directive
 * handlers, for its directive table (ngx_http_xflow_module.c).  Each has
 * nginx's directive signature: it returns NGX_CONF_OK, or NGX_CONF_ERROR
 * after logging why with the directive's file:line.  Whatever they keep
 * lives in cf->pool, for the cycle.  Configuration time, in the master.
 */

#ifndef NGX_HTTP_XFLOW_DIRECTIVES_H
#define NGX_HTTP_XFLOW_DIRECTIVES_H

#include "ngx_http_xflow_module.h"


/** xflow_kafka_conf NAME VALUE: one librdkafka property, checked now. */
char *ngx_http_xflow_kafka_conf_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** xflow_kafka_topic_conf TOPIC NAME VALUE: one topic's property. */
char *ngx_http_xflow_kafka_topic_conf_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/** xflow_route ...: one routing rule of a location. */
char *ngx_http_xflow_route_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** xflow_dedup off | TIME [size=SIZE] [topic=NAME]: the dedup window of
 * a location; the table's size is the main configuration's. */
char *ngx_http_xflow_dedup_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** xflow_spool DIR [max_size=] [fsync=]: the disk spool. */
char *ngx_http_xflow_spool_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** xflow_collect [FORMAT]: a location collects events. */
char *ngx_http_xflow_collect_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** xflow_retry_status by_format|429|503. */
char *ngx_http_xflow_retry_status_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/** xflow_cors_origins any|ORIGIN...: who may upload from a browser. */
char *ngx_http_xflow_cors_origins_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/** xflow_health: a location answers health checks. */
char *ngx_http_xflow_health_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/** The post handler of xflow_kafka_brokers: where it was written, for
 * errors librdkafka reports later. */
char *ngx_http_xflow_brokers_post(ngx_conf_t *cf, void *post, void *data);

/** The post handler of xflow_spool_after: where, for the check against
 * xflow_ack_timeout at the end of http{}. */
char *ngx_http_xflow_spool_after_post(ngx_conf_t *cf, void *post,
    void *data);

/** The post handler of xflow_ack_timeout: where, likewise. */
char *ngx_http_xflow_ack_timeout_post(ngx_conf_t *cf, void *post,
    void *data);

/** xflow_ack kafka|local: the mode, and where it was written. */
char *ngx_http_xflow_ack_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

#endif /* NGX_HTTP_XFLOW_DIRECTIVES_H */
