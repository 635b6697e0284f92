/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_topic.c - the topic registry (ngx_http_xflow_topic.h):
 * every Kafka topic a directive of any xflow module names, once, in the
 * collection module's main configuration, whose index every worker's
 * producer turns into a topic handle; and the check of a topic name.
 * The one part besides the collection module's own files that reads
 * that list, so that the other modules and util.c never do.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_topic.h"


/*
 * A topic name Kafka accepts: 1 to 249 of [a-zA-Z0-9._-], not "." or
 * "..".  NULL when it is, else why not.
 */
static const char *
ngx_http_xflow_topic_invalid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0) {
        return "is empty";
    }

    if (name->len > 249) {
        return "is longer than Kafka's 249 characters";
    }

    if ((name->len == 1 && name->data[0] == '.')
        || (name->len == 2 && name->data[0] == '.' && name->data[1] == '.'))
    {
        return "is \".\" or \"..\", which Kafka refuses";
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return "has a character Kafka refuses in a topic name "
                   "(allowed: a-z A-Z 0-9 . _ -)";
        }
    }

    return NULL;
}


char *
ngx_http_xflow_topic_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *name = data;

    const char  *why;

    why = ngx_http_xflow_topic_invalid(name);

    if (why) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Kafka topic \"%V\": it %s", name, why);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The index of a topic name in the main configuration, added if new:
 * every worker creates a topic handle per index.  For the other xflow
 * modules too (overflow topics, the UA dictionary).
 */
ngx_int_t
ngx_http_xflow_topic_index(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_str_t                   *t;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    t = mcf->topics.elts;
    for (i = 0; i < mcf->topics.nelts; i++) {
        if (t[i].len == name->len
            && ngx_strncmp(t[i].data, name->data, name->len) == 0)
        {
            return i;
        }
    }

    if (ngx_http_xflow_topic_post(cf, NULL, name) != NGX_CONF_OK) {
        return NGX_ERROR;
    }

    t = ngx_array_push(&mcf->topics);
    if (t == NULL) {
        return NGX_ERROR;
    }

    *t = *name;

    return mcf->topics.nelts - 1;
}
