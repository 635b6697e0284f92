/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_ip.h - client address text: parsing, truncation for the envelope,
 * and the ranges GeoIP has nothing to say about.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
 * reports for an IPv4 client) is an IPv4 address for both: truncating it
 * to /48 as IPv6 would keep nothing of it, and its range is the IPv4
 * one.  It keeps its written form: "::ffff:192.0.2.7" truncates to
 * "::ffff:192.0.2.0".
 */

#ifndef XF_IP_H
#define XF_IP_H

#include "xf_core.h"
#include "xf_hashref.h"


#define XF_IP_TEXT_MAX  46          /* INET6_ADDRSTRLEN, with the NUL */

#define XF_IP_V4_PREFIX 24
#define XF_IP_V6_PREFIX 48


typedef struct {
    int         family;             /* AF_INET or AF_INET6 */
    unsigned    mapped;             /* AF_INET6 holding an IPv4 address */
    u_char      addr[16];           /* network order; AF_INET: 4 bytes */
} xf_ip_t;


/*
 * Parse the text of an address (inet_pton: dotted quad, or IPv6 without
 * a zone or brackets).  Returns 1, or 0 when p is not an address.
 */
int xf_ip_parse(const u_char *p, size_t len, xf_ip_t *ip);

/*
 * 1 for addresses that never belong to a place: unspecified, loopback,
 * RFC 1918 private, shared (100.64/10), link-local, multicast, reserved
 * (240/4, broadcast), IPv6 unique-local (fc00::/7), link-local
 * (fe80::/10), multicast (ff00::/8); IPv4-mapped addresses by their
 * IPv4 range.
 */
int xf_ip_is_local(const xf_ip_t *ip);

/*
 * Write the address with the host bits cleared (/24 for IPv4, /48 for
 * IPv6) as text, NUL-terminated, into dst (XF_IP_TEXT_MAX bytes).
 * Returns its length.
 */
size_t xf_ip_truncate(const xf_ip_t *ip, u_char *dst);

/* The address as text (inet_ntop's canonical form), like truncate. */
size_t xf_ip_text(const xf_ip_t *ip, u_char *dst);


/*
 * The envelope's "ip" under xflow_client_ip truncate or hash, from the
 * connection's address text.  Truncate: the address with its host bits
 * cleared.  Hash: the keyed reference (tag 'i') of its canonical text.
 * Text that is not an address (a unix socket, anything inet_pton
 * refuses), or hash without a key: nothing at all, never the text as it
 * was.  dst holds XF_IP_RENDER_MAX bytes.  Returns the length written, 0
 * for no "ip", or (size_t) -1 when hashing fails.
 */
#define XF_IP_RENDER_MAX  (XF_IP_TEXT_MAX + XF_HASHREF_LEN)

typedef enum {
    XF_IP_RENDER_TRUNCATE = 0,
    XF_IP_RENDER_HASH
} xf_ip_render_t;

/* The envelope's "ip" as described above: its length, 0 or -1. */
size_t xf_ip_render(xf_ip_render_t mode, const u_char *text, size_t len,
    xf_hashref_t *h, u_char *dst);

/*
 * The same from the address already parsed (xf_ip_parse()): ip NULL when
 * the text is not an address.  A caller that needs the parsed address
 * anyway (GeoIP) parses it once.
 */
size_t xf_ip_render_parsed(xf_ip_render_t mode, const xf_ip_t *ip,
    xf_hashref_t *h, u_char *dst);

#endif /* XF_IP_H */
