/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_ip.c - address parsing, truncation and local ranges over inet_pton.
 */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "xf_ip.h"


static const u_char  xf_ip_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


int
xf_ip_parse(const u_char *p, size_t len, xf_ip_t *ip)
{
    char  buf[XF_IP_TEXT_MAX];

    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    memset(ip, 0, sizeof(xf_ip_t));

    if (inet_pton(AF_INET, buf, ip->addr) == 1) {
        ip->family = AF_INET;
        return 1;
    }

    if (inet_pton(AF_INET6, buf, ip->addr) == 1) {
        ip->family = AF_INET6;
        ip->mapped = memcmp(ip->addr, xf_ip_mapped_prefix, 12) == 0;
        return 1;
    }

    return 0;
}


static int
xf_ip_v4_is_local(const u_char *a)
{
    return a[0] == 0                                    /* 0/8 */
           || a[0] == 10                                /* 10/8 */
           || (a[0] == 100 && (a[1] & 0xc0) == 64)      /* 100.64/10 */
           || a[0] == 127                               /* 127/8 */
           || (a[0] == 169 && a[1] == 254)              /* 169.254/16 */
           || (a[0] == 172 && (a[1] & 0xf0) == 16)      /* 172.16/12 */
           || (a[0] == 192 && a[1] == 168)              /* 192.168/16 */
           || a[0] >= 224;                  /* multicast, 240/4, bcast */
}


int
xf_ip_is_local(const xf_ip_t *ip)
{
    int           i;
    const u_char  *a;

    a = ip->addr;

    if (ip->family == AF_INET) {
        return xf_ip_v4_is_local(a);
    }

    if (ip->mapped) {
        return xf_ip_v4_is_local(a + 12);
    }

    /* :: and ::1 */

    for (i = 0; i < 15 && a[i] == 0; i++) {
        /* void */
    }

    if (i == 15 && a[15] <= 1) {
        return 1;
    }

    return (a[0] & 0xfe) == 0xfc                        /* fc00::/7 */
           || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)   /* fe80::/10 */
           || a[0] == 0xff;                             /* ff00::/8 */
}


size_t
xf_ip_text(const xf_ip_t *ip, u_char *dst)
{
    if (inet_ntop(ip->family, ip->addr, (char *) dst, XF_IP_TEXT_MAX)
        == NULL)
    {
        dst[0] = '\0';
    }

    return strlen((char *) dst);
}


size_t
xf_ip_truncate(const xf_ip_t *ip, u_char *dst)
{
    xf_ip_t  t;

    t = *ip;

    if (t.family == AF_INET) {
        t.addr[3] = 0;

    } else if (t.mapped) {
        t.addr[15] = 0;

    } else if (t.addr[0] == 0x20 && t.addr[1] == 0x02) {
        /*
         * 6to4 (2002::/16) carries the whole IPv4 address in bits 16-47:
         * its /48 is one host.  Truncated as that IPv4 address is.
         * Teredo (2001::/32) keeps its client's address in the last 32
         * bits and NAT64 (64:ff9b::/96, 64:ff9b:1::/48) at bits 48 and
         * on, both cleared by the /48.
         */
        memset(t.addr + 5, 0, 11);

    } else {
        memset(t.addr + XF_IP_V6_PREFIX / 8, 0, 16 - XF_IP_V6_PREFIX / 8);
    }

    return xf_ip_text(&t, dst);
}


size_t
xf_ip_render(xf_ip_render_t mode, const u_char *text, size_t len,
    xf_hashref_t *h, u_char *dst)
{
    xf_ip_t  ip;

    return xf_ip_render_parsed(mode, xf_ip_parse(text, len, &ip) ? &ip : NULL,
                               h, dst);
}


size_t
xf_ip_render_parsed(xf_ip_render_t mode, const xf_ip_t *ip, xf_hashref_t *h,
    u_char *dst)
{
    size_t   n;
    u_char   canon[XF_IP_TEXT_MAX];

    if (ip == NULL) {
        return 0;
    }

    if (mode == XF_IP_RENDER_TRUNCATE) {
        return xf_ip_truncate(ip, dst);
    }

    if (h == NULL) {
        return 0;
    }

    /* the canonical text, so 2001:DB8::1 and 2001:db8::1 agree */
    n = xf_ip_text(ip, canon);

    if (xf_hashref(h, XF_HASHREF_IP, canon, n, dst) != XF_OK) {
        return (size_t) -1;
    }

    return XF_HASHREF_LEN;
}
