/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_directives.c - the collection module's directive
 * handlers (ngx_http_xflow_directives.h): each parses its arguments into
 * the configuration, with errors that name the directive's file:line.
 * Configuration time, in the master.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_directives.h"
#include "ngx_http_xflow_collect.h"
#include "ngx_http_xflow_health.h"
#include "ngx_http_xflow_kafka.h"
#include "ngx_http_xflow_topic.h"


/*
 * Parse one xflow_route from its arguments.  The route keeps pointers to
 * its strings, which live in the configuration pool like the arguments.
 */
static xf_status_t
ngx_http_xflow_route_parse(ngx_conf_t *cf, ngx_str_t *args, ngx_uint_t n,
    xf_alloc_t *a, xf_route_rule_t *rule, char *err, size_t err_len)
{
    xf_str_t    *tokens;
    ngx_uint_t   i;

    tokens = ngx_palloc(cf->pool, n * sizeof(xf_str_t));
    if (tokens == NULL) {
        return XF_ERR_NOMEM;
    }

    for (i = 0; i < n; i++) {
        tokens[i].data = args[i].data;
        tokens[i].len = args[i].len;
    }

    return xf_route_rule_parse(tokens, n, a, rule, err, err_len);
}


/*
 * One broker of a bootstrap list: [PROTOCOL://]HOST[:PORT], HOST a name,
 * an IPv4 address or an IPv6 one in brackets.  librdkafka takes any
 * string and only fails to resolve or connect later, in every worker,
 * while the spool fills: what cannot be an address is refused now.
 * Returns NULL, or what is wrong.
 */
static const char *
ngx_http_xflow_broker_check(u_char *p, u_char *end)
{
    u_char      *s, *host;
    ngx_int_t    port;

    for (s = p; s + 2 < end; s++) {
        if (s[0] == ':' && s[1] == '/' && s[2] == '/') {
            p = s + 3;
            break;
        }
    }

    host = p;

    if (p < end && *p == '[') {
        while (p < end && *p != ']') {
            if (!(isxdigit(*p) || *p == ':' || *p == '.' || *p == '[')) {
                return "a character an address cannot have";
            }

            p++;
        }

        if (p == end) {
            return "no \"]\" after the IPv6 address";
        }

        p++;

    } else {
        while (p < end
               && (isalnum(*p) || *p == '.' || *p == '-' || *p == '_'))
        {
            p++;
        }
    }

    if (p == host) {
        return "no host";
    }

    if (p == end) {
        return NULL;
    }

    if (*p != ':') {
        return "a character a host name cannot have";
    }

    p++;

    port = ngx_atoi(p, end - p);

    if (port == NGX_ERROR || port < 1 || port > 65535) {
        return "a port that is not a number from 1 to 65535";
    }

    return NULL;
}


char *
ngx_http_xflow_brokers_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t *brokers = data;

    u_char                      *p, *end, *comma;
    const char                  *err;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    mcf->brokers_where.file = cf->conf_file->file.name.data;
    mcf->brokers_where.line = cf->conf_file->line;

    /* a template's @KAFKA_BROKERS@ that nothing replaced */
    if (ngx_strlchr(brokers->data, brokers->data + brokers->len, '@')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is a placeholder, not a broker list: "
                           "replace it with HOST:PORT[,HOST:PORT...]",
                           brokers);
        return NGX_CONF_ERROR;
    }

    p = brokers->data;
    end = p + brokers->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        /* librdkafka allows blanks around the commas */
        while (p < comma && *p == ' ') {
            p++;
        }

        err = ngx_http_xflow_broker_check(p, comma);

        if (err != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid broker \"%*s\" in \"%V\": %s, "
                               "expected HOST:PORT[,HOST:PORT...]",
                               (size_t) (comma - p), p, brokers, err);
            return NGX_CONF_ERROR;
        }

        if (comma == end) {
            break;
        }

        p = comma + 1;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_spool_after_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    mcf->spool_after_where.file = cf->conf_file->file.name.data;
    mcf->spool_after_where.line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* data is the location's ack_timeout: its conf is around it */
char *
ngx_http_xflow_ack_timeout_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = (ngx_http_xflow_loc_conf_t *)
          ((u_char *) data - offsetof(ngx_http_xflow_loc_conf_t,
                                      ack_timeout));

    lcf->ack_timeout_where.file = cf->conf_file->file.name.data;
    lcf->ack_timeout_where.line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* xflow_ack kafka|local: the enum slot, and where it was written */
char *
ngx_http_xflow_ack_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    char  *rv;

    rv = ngx_conf_set_enum_slot(cf, cmd, conf);

    if (rv == NGX_CONF_OK) {
        lcf->ack_where.file = cf->conf_file->file.name.data;
        lcf->ack_where.line = cf->conf_file->line;
    }

    return rv;
}


char *
ngx_http_xflow_kafka_topic_conf_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_main_conf_t *mcf = conf;

    char                     errstr[512];
    ngx_str_t               *value;
    ngx_uint_t               i;
    ngx_keyval_t            *kv;
    ngx_http_xflow_tconf_t  *tc;

    value = cf->args->elts;

    if (ngx_http_xflow_topic_post(cf, NULL, &value[1]) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    tc = mcf->topic_confs.elts;
    for (i = 0; i < mcf->topic_confs.nelts; i++) {
        if (tc[i].topic.len == value[1].len
            && ngx_strncmp(tc[i].topic.data, value[1].data, value[1].len)
               == 0)
        {
            break;
        }
    }

    if (i == mcf->topic_confs.nelts) {
        tc = ngx_array_push(&mcf->topic_confs);
        if (tc == NULL) {
            return NGX_CONF_ERROR;
        }

        tc->topic = value[1];
        tc->conf = rd_kafka_topic_conf_new();
        tc->props = ngx_array_create(cf->pool, 2, sizeof(ngx_keyval_t));

        if (tc->conf == NULL || tc->props == NULL) {
            if (tc->conf) {
                rd_kafka_topic_conf_destroy(tc->conf);
            }

            mcf->topic_confs.nelts--;
            return NGX_CONF_ERROR;
        }

    } else {
        tc = &tc[i];
    }

    tc->where.file = cf->conf_file->file.name.data;
    tc->where.line = cf->conf_file->line;

    /* arguments are NUL-terminated by the configuration parser */
    if (rd_kafka_topic_conf_set(tc->conf, (char *) value[2].data,
                                (char *) value[3].data, errstr,
                                sizeof(errstr))
        != RD_KAFKA_CONF_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Kafka topic property \"%V\" of \"%V\": "
                           "%s", &value[2], &value[1], errstr);
        return NGX_CONF_ERROR;
    }

    /* replayed by each worker over the producer's default topic conf */
    kv = ngx_array_push(tc->props);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[2];
    kv->value = value[3];

    return NGX_CONF_OK;
}


/*
 * xflow_spool DIR [max_size=SIZE] [replay_rate=N]
 *     [fsync=always|interval=TIME|off];
 * The directory is made like nginx's temp paths: created at start and
 * owned by the worker user, who writes the segments.
 */
char *
ngx_http_xflow_dedup_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value, s;
    ngx_msec_t                   window;
    ngx_uint_t                   i;
    ngx_http_xflow_main_conf_t  *mcf;

    if (lcf->dedup_window != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" after \"off\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        lcf->dedup_window = 0;
        return NGX_CONF_OK;
    }

    window = ngx_parse_time(&value[1], 0);
    if (window == (ngx_msec_t) NGX_ERROR || window < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid window \"%V\", at least 1s",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    /* the table is one for the gateway: 8m of slots unless told */
    size = 8 * 1024 * 1024;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size < 64 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", at least 64k",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "topic=", 6) == 0
            && value[i].len > 6)
        {
            lcf->dedup_topic.data = value[i].data + 6;
            lcf->dedup_topic.len = value[i].len - 6;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if ((size_t) size > mcf->dedup_size) {
        mcf->dedup_size = size;
    }

    lcf->dedup_window = window;

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_spool_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_main_conf_t *mcf = conf;

    ssize_t      size;
    ngx_str_t   *value, s;
    ngx_int_t    ms;
    ngx_uint_t   i;

    if (mcf->spool) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->spool = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (mcf->spool == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->spool->name = value[1];

    if (mcf->spool->name.data[mcf->spool->name.len - 1] == '/') {
        mcf->spool->name.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &mcf->spool->name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mcf->spool->conf_file = cf->conf_file->file.name.data;
    mcf->spool->line = cf->conf_file->line;

    mcf->spool_max_size = 1024ULL * 1024 * 1024;
    mcf->spool_fsync = 1;       /* XF_SPOOL_FSYNC_INTERVAL */
    mcf->spool_fsync_interval = 100;
    mcf->spool_replay_rate = 20000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", at least 1m", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->spool_max_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "replay_rate=", 12) == 0) {
            ms = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (ms == NGX_ERROR || ms == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", a number of records "
                                   "per second", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->spool_replay_rate = ms;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fsync=always") == 0) {
            mcf->spool_fsync = 0;       /* XF_SPOOL_FSYNC_ALWAYS */
            continue;
        }

        if (ngx_strcmp(value[i].data, "fsync=off") == 0) {
            mcf->spool_fsync = 2;       /* XF_SPOOL_FSYNC_OFF */
            continue;
        }

        if (ngx_strncmp(value[i].data, "fsync=interval=", 15) == 0) {
            s.data = value[i].data + 15;
            s.len = value[i].len - 15;

            ms = ngx_parse_time(&s, 0);
            if (ms == NGX_ERROR || ms == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->spool_fsync = 1;
            mcf->spool_fsync_interval = ms;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected max_size=, "
                           "replay_rate=, fsync=always, fsync=interval=TIME "
                           "or fsync=off",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    /* created by the master at start, owned by the worker user */
    if (ngx_add_path(cf, &mcf->spool) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_route_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    char              err[256];
    xf_alloc_t        a;
    ngx_str_t        *value, topic;
    xf_route_rule_t  *rule;

    if (lcf->routes == NULL) {
        lcf->routes = ngx_array_create(cf->pool, 4, sizeof(xf_route_rule_t));
        if (lcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(lcf->routes);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    /* ngx_str_t and xf_str_t differ in order: copy the arguments */
    if (ngx_http_xflow_route_parse(cf, &value[1], cf->args->nelts - 1, &a,
                                   rule, err, sizeof(err))
        != XF_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    topic.data = (u_char *) rule->topic.data;
    topic.len = rule->topic.len;

    return ngx_http_xflow_topic_post(cf, NULL, &topic);
}


char *
ngx_http_xflow_kafka_conf_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_main_conf_t *mcf = conf;

    ngx_str_t            *value;
    ngx_http_xflow_kv_t  *kv;

    value = cf->args->elts;

    /* ngx_conf_read_token() NUL-terminates every argument */

    if (ngx_http_xflow_kafka_conf_set(cf, mcf, (char *) value[1].data,
                                (char *) value[2].data)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    kv = ngx_array_push(&mcf->kafka_conf);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];
    kv->file = cf->conf_file->file.name.data;
    kv->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_collect_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    ngx_str_t                   *value;
    xf_format_t                  format;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_xflow_main_conf_t  *mcf;

    if (lcf->collect != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->collect = 1;
    lcf->format = XF_FMT_AUTO;
    lcf->collect_where.file = cf->conf_file->file.name.data;
    lcf->collect_where.line = cf->conf_file->line;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;

        if (xf_format_parse_name(value[1].data, value[1].len, &format)
            != XF_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown format \"%V\", expected auto, json, "
                               "sensors, posthog, segment, snowplow, "
                               "mixpanel or amplitude",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        lcf->format = format;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);
    mcf->enabled = 1;

    if (mcf->collect_where.file == NULL) {
        mcf->collect_where = lcf->collect_where;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_collect_handler;

    /* the ledger counts per location, by the name the operator gave it */
    lcf->ledger = ngx_http_xflow_ledger_location(cf, &mcf->ledger_locs,
                                                 &clcf->name,
                                                 (xf_format_t) lcf->format);
    if (lcf->ledger == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_retry_status_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->retry_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "auto") == 0) {
        lcf->retry_status = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    /* statuses an SDK may treat as "try again later" */
    if (n != 429 && n != 500 && n != 502 && n != 503 && n != 504) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid retry status \"%V\", expected auto, "
                           "429, 500, 502, 503 or 504", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->retry_status = n;

    return NGX_CONF_OK;
}


/*
 * An origin as a browser sends it in Origin: scheme://host[:port] and
 * nothing else.  The comparison is exact, so a path, a trailing slash,
 * a wildcard or a comma-joined list would never match any browser and
 * every preflight would go without CORS headers.  Returns NULL, or what
 * is wrong.
 */
static const char *
ngx_http_xflow_origin_check(ngx_str_t *o)
{
    u_char      *p, *end, *host;
    ngx_int_t    port;

    p = o->data;
    end = p + o->len;

    if (ngx_strlchr(p, end, ',')) {
        return "a comma: list origins as separate arguments";
    }

    if (ngx_strlchr(p, end, '*')) {
        return "a wildcard: list each origin, or say \"any\" alone";
    }

    if (o->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;

    } else if (o->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;

    } else {
        return "no http:// or https://";
    }

    host = p;

    if (*p == '[') {
        while (p < end && *p != ']') {
            p++;
        }

        if (p == end) {
            return "no \"]\" after the IPv6 address";
        }

        p++;

    } else {
        while (p < end && (isalnum(*p) || *p == '.' || *p == '-')) {
            p++;
        }
    }

    if (p == host) {
        return "no host";
    }

    if (p < end && *p == ':') {
        host = ++p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        port = ngx_atoi(host, p - host);

        if (port == NGX_ERROR || port < 1 || port > 65535) {
            return "a port that is not a number from 1 to 65535";
        }
    }

    if (p < end && *p == '/') {
        return "a path or a trailing slash, which an Origin never has";
    }

    if (p < end) {
        return "a character a host name cannot have";
    }

    return NULL;
}


char *
ngx_http_xflow_cors_origins_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_loc_conf_t *lcf = conf;

    ngx_str_t   *value, *o;
    ngx_uint_t   i;
    const char  *err;

    if (lcf->cors != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    lcf->cors_where.file = cf->conf_file->file.name.data;
    lcf->cors_where.line = cf->conf_file->line;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->cors = 0;
        lcf->cors_origins = NULL;
        return NGX_CONF_OK;
    }

    lcf->cors = 1;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "any") == 0) {
        lcf->cors_origins = NULL;
        return NGX_CONF_OK;
    }

    lcf->cors_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_str_t));
    if (lcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        err = ngx_http_xflow_origin_check(&value[i]);

        if (err != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": %s; expected "
                               "scheme://host[:port], one per argument, "
                               "as browsers send it", &value[i], err);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(lcf->cors_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        *o = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_http_xflow_health_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_xflow_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_xflow_module);

    if (mcf->health_where.file == NULL) {
        mcf->health_where.file = cf->conf_file->file.name.data;
        mcf->health_where.line = cf->conf_file->line;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_health_handler;

    return NGX_CONF_OK;
}
