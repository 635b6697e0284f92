/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_envelope.c - envelope v1 rendering and event ids.
 */

#include <string.h>

#include "xf_envelope.h"
#include "xf_json.h"


static const u_char  xf_hex[] = "0123456789abcdef";


static void
xf_hex64(u_char *dst, uint64_t v)
{
    int  i;

    for (i = 15; i >= 0; i--) {
        dst[i] = xf_hex[v & 0xf];
        v >>= 4;
    }
}


void
xf_id_init(xf_id_gen_t *g, uint64_t random_prefix)
{
    xf_hex64(g->prefix_hex, random_prefix);
    g->seq = 0;
}


void
xf_id_next(xf_id_gen_t *g, u_char *dst)
{
    memcpy(dst, g->prefix_hex, 16);
    xf_hex64(dst + 16, g->seq++);
}


#define XF_HEAD_FIXED  "\",\"ts\":18446744073709551615,\"src\":\"\",\"ip\":\"\""

size_t
xf_envelope_head_size(const xf_envelope_req_t *req)
{
    return sizeof(XF_HEAD_FIXED) - 1 + strlen(req->src)
           + xf_json_escape_bound(req->ip_len) + req->extra_len;
}


static u_char *
xf_cpy(u_char *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
    return dst + len;
}


static u_char *
xf_u64(u_char *dst, uint64_t v)
{
    u_char   buf[20];
    size_t   n;

    n = sizeof(buf);

    do {
        buf[--n] = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return xf_cpy(dst, buf + n, sizeof(buf) - n);
}


size_t
xf_envelope_head(u_char *dst, const xf_envelope_req_t *req)
{
    u_char  *p;

    p = xf_cpy(dst, "\",\"ts\":", 7);
    p = xf_u64(p, req->ts_ms);
    p = xf_cpy(p, ",\"src\":\"", 8);
    p = xf_cpy(p, req->src, strlen(req->src));
    *p++ = '"';

    /* xflow_client_ip drop: no address at all */
    if (req->ip != NULL) {
        p = xf_cpy(p, ",\"ip\":\"", 7);
        p += xf_json_escape(p, req->ip, req->ip_len);
        *p++ = '"';
    }

    if (req->extra_len) {
        p = xf_cpy(p, req->extra, req->extra_len);
    }

    return (size_t) (p - dst);
}


u_char *
xf_envelope_write(u_char *dst, const u_char *id, const u_char *head,
    size_t head_len, const u_char *member, size_t member_len,
    const u_char *event, size_t event_len)
{
    u_char  *p;

    p = xf_cpy(dst, "{\"v\":1,\"id\":\"", 13);
    p = xf_cpy(p, id, XF_ID_HEX_LEN);
    p = xf_cpy(p, head, head_len);

    if (member_len) {
        p = xf_cpy(p, member, member_len);
    }

    p = xf_cpy(p, ",\"event\":", 9);
    p = xf_cpy(p, event, event_len);
    *p++ = '}';

    return p;
}
