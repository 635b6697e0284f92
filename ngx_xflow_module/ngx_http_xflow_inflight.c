/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_inflight.c - xflow_max_decoded_in_flight: the decoded
 * bytes this worker's requests hold, bounded (the directive is the limit
 * module's, see ngx_http_xflow_limit_module.h).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"


/* Decoded bytes held by this worker's requests in progress. */
static size_t  ngx_http_xflow_inflight;


/*
 * Decoded bytes in flight: what this worker's requests hold of decoded
 * bodies and nested layers, from the first decoded byte to the end of
 * the request.  A slow client that sent a small compressed body holds
 * its decoded bytes while it drips the rest: many of them could hold the
 * worker's memory.  NGX_DECLINED: over xflow_max_decoded_in_flight, the
 * request is to be refused with the retry status.
 */
ngx_int_t
ngx_http_xflow_inflight_charge(ngx_http_request_t *r, size_t n)
{
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);

    if (lmcf->max_inflight != 0
        && n > lmcf->max_inflight - ngx_min(ngx_http_xflow_inflight,
                                            lmcf->max_inflight))
    {
        ngx_http_xflow_metric_add(XF_M_DECODED_INFLIGHT_REFUSED, 0, 0, 1);
        return NGX_DECLINED;
    }

    ngx_http_xflow_inflight += n;
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_inflight);

    return NGX_OK;
}


void
ngx_http_xflow_inflight_release(size_t n)
{
    ngx_http_xflow_inflight -= ngx_min(n, ngx_http_xflow_inflight);
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_inflight);
}
