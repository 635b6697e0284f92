/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-ip.c - client address text: parse, truncate, print.
 *
 * Invariant: any bytes parse without a crash or undefined behaviour; a
 * parsed address prints as canonical text that parses back to the same
 * address, and its truncation (/24, /48) fits XF_IP_TEXT_MAX and parses
 * too; a 6to4 address's truncation keeps no more of the IPv4 address it
 * carries than an IPv4 truncation does.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xf_ip.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t   n;
    u_char   text[XF_IP_TEXT_MAX];
    u_char   out[XF_IP_RENDER_MAX];
    xf_ip_t  ip, again;

    if (!xf_ip_parse(data, size, &ip)) {
        /* truncate and hash of what does not parse: nothing at all */
        if (xf_ip_render(XF_IP_RENDER_TRUNCATE, data, size, NULL, out) != 0
            || xf_ip_render(XF_IP_RENDER_HASH, data, size, NULL, out) != 0)
        {
            FUZZ_FAIL("xf_ip_render(XF_IP_RENDER_TRUNCATE, data, size, NULL, "
                      "out) != 0 || xf_ip_render(XF_IP_RENDER_HASH, data, "
                      "size, NULL, out) != 0");
        }

        return 0;
    }

    /* truncate renders exactly the truncated address; hash needs a key */
    n = xf_ip_render(XF_IP_RENDER_TRUNCATE, data, size, NULL, out);
    if (n == 0 || n != xf_ip_truncate(&ip, text) || memcmp(out, text, n) != 0
        || xf_ip_render(XF_IP_RENDER_HASH, data, size, NULL, out) != 0)
    {
        FUZZ_FAIL("n == 0 || n != xf_ip_truncate(&ip, text) || memcmp(out, "
                  "text, n) != 0 || xf_ip_render(XF_IP_RENDER_HASH, data, "
                  "size, NULL, out) != 0");
    }

    (void) xf_ip_is_local(&ip);

    n = xf_ip_text(&ip, text);
    if (n == 0 || n >= XF_IP_TEXT_MAX || !xf_ip_parse(text, n, &again)
        || again.family != ip.family
        || memcmp(again.addr, ip.addr, ip.family == AF_INET ? 4 : 16) != 0)
    {
        FUZZ_FAIL("n == 0 || n >= XF_IP_TEXT_MAX || !xf_ip_parse(text, n, "
                  "&again) || again.family != ip.family || memcmp(again.addr, "
                  "ip.addr, ip.family == AF_INET ? 4 : 16) != 0");
    }

    n = xf_ip_truncate(&ip, text);
    if (n == 0 || n >= XF_IP_TEXT_MAX || !xf_ip_parse(text, n, &again)) {
        FUZZ_FAIL("n == 0 || n >= XF_IP_TEXT_MAX || !xf_ip_parse(text, n, "
                  "&again)");
    }

    /* an IPv4 address carried in a 6to4 one loses its last byte too */
    if (ip.family == AF_INET6 && ip.addr[0] == 0x20 && ip.addr[1] == 0x02
        && again.addr[5] != 0)
    {
        abort();
    }

    return 0;
}
