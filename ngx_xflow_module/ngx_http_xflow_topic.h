/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_topic.h - the topic registry: the Kafka topics of the
 * configuration, for every xflow module that names one (xflow_topic and
 * routes, the limit module's overflow topics, the privacy module's UA
 * dictionary), and the check of a topic name.
 */

#ifndef NGX_HTTP_XFLOW_TOPIC_H
#define NGX_HTTP_XFLOW_TOPIC_H

#include <ngx_config.h>
#include <ngx_core.h>


/**
 * @brief The index of topic \p name in xflow's main configuration, added
 * when new: every worker creates one producer topic per index.  Used by
 * every xflow module that names a topic (routes, overflow topics, the UA
 * dictionary).  \p name must stay valid for the cycle (configuration
 * arguments do) and be NUL-terminated.
 *
 * @returns the index, or NGX_ERROR after logging an invalid name.
 * Configuration time, in the master (or "nginx -t").
 */
ngx_int_t ngx_http_xflow_topic_index(ngx_conf_t *cf, ngx_str_t *name);

/**
 * @brief A directive post handler (and check) for a topic name: Kafka
 * accepts 1 to 249 of [a-zA-Z0-9._-], not "." or "..".
 *
 * @returns NGX_CONF_OK, or NGX_CONF_ERROR after logging why not.
 * Configuration time.
 */
char *ngx_http_xflow_topic_post(ngx_conf_t *cf, void *post, void *data);

#endif /* NGX_HTTP_XFLOW_TOPIC_H */
