/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ip.c - client address parsing, truncation and local ranges.
 */

#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "xf_ip.h"
#include "xf_hashref.h"


static const struct {
    const char  *in;
    const char  *truncated;         /* NULL: not an address */
    int          local;
} ip_table[] = {
    { "81.2.69.160", "81.2.69.0", 0 },
    { "203.0.113.255", "203.0.113.0", 0 },
    { "8.8.8.8", "8.8.8.0", 0 },
    { "0.0.0.0", "0.0.0.0", 1 },
    { "10.1.2.3", "10.1.2.0", 1 },
    { "100.64.0.1", "100.64.0.0", 1 },
    { "100.127.255.255", "100.127.255.0", 1 },
    { "100.128.0.1", "100.128.0.0", 0 },
    { "127.0.0.1", "127.0.0.0", 1 },
    { "169.254.1.1", "169.254.1.0", 1 },
    { "172.15.0.1", "172.15.0.0", 0 },
    { "172.16.0.1", "172.16.0.0", 1 },
    { "172.31.255.1", "172.31.255.0", 1 },
    { "172.32.0.1", "172.32.0.0", 0 },
    { "192.168.1.1", "192.168.1.0", 1 },
    { "224.0.0.1", "224.0.0.0", 1 },
    { "255.255.255.255", "255.255.255.0", 1 },
    { "2001:db8:abcd:1234:5678::1", "2001:db8:abcd::", 0 },
    { "2a02:8109:1:2::3", "2a02:8109:1::", 0 },
    { "2001:218::1", "2001:218::", 0 },
    { "::1", "::", 1 },
    { "::", "::", 1 },
    { "fc00::1", "fc00::", 1 },
    { "fd12:3456:789a:1::1", "fd12:3456:789a::", 1 },
    { "fe80::1", "fe80::", 1 },
    { "febf::1", "febf::", 1 },
    { "fec0::1", "fec0::", 0 },
    { "ff02::1", "ff02::", 1 },
    /* IPv4-mapped: the IPv4 rules, the IPv6 form */
    { "::ffff:81.2.69.160", "::ffff:81.2.69.0", 0 },
    { "::ffff:10.0.0.1", "::ffff:10.0.0.0", 1 },
    { "::FFFF:192.168.0.9", "::ffff:192.168.0.0", 1 },
    { "::ffff:5102:45a0", "::ffff:81.2.69.0", 0 },
    /* an IPv4 address inside: truncated as the IPv4 address is */
    { "2002:5102:45a0::1", "2002:5102:4500::", 0 },
    { "2002:5102:45a0:1234:5678::9", "2002:5102:4500::", 0 },
    /* Teredo: server 65.54.227.120, client (obfuscated) at the end */
    { "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136::", 0 },
    /* NAT64, well-known and local-use prefixes */
    { "64:ff9b::5102:45a0", "64:ff9b::", 0 },
    { "64:ff9b:1:5102:45:a000::", "64:ff9b:1::", 0 },
    /* not addresses */
    { "", NULL, 0 },
    { "1.2.3", NULL, 0 },
    { "1.2.3.256", NULL, 0 },
    { "01.2.3.4", NULL, 0 },
    { " 1.2.3.4", NULL, 0 },
    { "1.2.3.4 ", NULL, 0 },
    { "fe80::1%eth0", NULL, 0 },
    { "[::1]", NULL, 0 },
    { "1.2.3.4:80", NULL, 0 },
    { "::ffff:1.2.3.4.5", NULL, 0 },
    { "0000:0000:0000:0000:0000:0000:0000:0000:0", NULL, 0 },
    { "unknown", NULL, 0 },
};


START_TEST(test_ip_table)
{
    u_char       out[XF_IP_TEXT_MAX];
    size_t       n;
    xf_ip_t      ip;
    const char  *in;

    in = ip_table[_i].in;

    if (ip_table[_i].truncated == NULL) {
        ck_assert_int_eq(xf_ip_parse((const u_char *) in, strlen(in), &ip), 0);
        return;
    }

    ck_assert_msg(xf_ip_parse((const u_char *) in, strlen(in), &ip) == 1,
                  "parse %s", in);

    n = xf_ip_truncate(&ip, out);
    ck_assert_uint_eq(n, strlen(ip_table[_i].truncated));
    ck_assert_str_eq((char *) out, ip_table[_i].truncated);

    ck_assert_msg(xf_ip_is_local(&ip) == ip_table[_i].local, "local %s", in);
}
END_TEST


START_TEST(test_ip_text_and_families)
{
    u_char   out[XF_IP_TEXT_MAX];
    xf_ip_t  ip;

    ck_assert_int_eq(xf_ip_parse((const u_char *) "2001:DB8:0:0::1", 15, &ip),
                     1);
    ck_assert_int_eq(ip.family, AF_INET6);
    ck_assert_uint_eq(ip.mapped, 0);
    xf_ip_text(&ip, out);
    ck_assert_str_eq((char *) out, "2001:db8::1");

    ck_assert_int_eq(xf_ip_parse((const u_char *) "::ffff:1.2.3.4", 14, &ip),
                     1);
    ck_assert_uint_eq(ip.mapped, 1);
    ck_assert_uint_eq(ip.addr[12], 1);

    ck_assert_int_eq(xf_ip_parse((const u_char *) "1.2.3.4", 7, &ip), 1);
    ck_assert_int_eq(ip.family, AF_INET);
    ck_assert_uint_eq(ip.addr[3], 4);

    /* the length bounds the text: no NUL needed, nothing read past it */
    ck_assert_int_eq(xf_ip_parse((const u_char *) "1.2.3.45", 7, &ip), 1);
    ck_assert_uint_eq(ip.addr[3], 4);
}
END_TEST


/*
 * truncate and hash never fall back to the address text: what does not
 * parse (a unix socket, a name) gives no "ip" at all.
 */
START_TEST(test_ip_render)
{
    size_t         n;
    u_char         out[XF_IP_RENDER_MAX];
    u_char         want[XF_HASHREF_LEN];
    xf_hashref_t  *h;

    ck_assert_ptr_null(xf_hashref_create((const u_char *)
                                         "0123456789abcdef0123456789abcdef",
                                         32, (const u_char *) "k", 1,
                                         &xf_alloc_libc, &h));

    n = xf_ip_render(XF_IP_RENDER_TRUNCATE, (const u_char *) "192.0.2.77",
                     10, h, out);
    ck_assert_uint_eq(n, 9);
    ck_assert_int_eq(memcmp(out, "192.0.2.0", 9), 0);

    n = xf_ip_render(XF_IP_RENDER_HASH, (const u_char *) "2001:DB8::1", 11,
                     h, out);
    ck_assert_uint_eq(n, XF_HASHREF_LEN);
    ck_assert_int_eq(xf_hashref(h, XF_HASHREF_IP,
                                (const u_char *) "2001:db8::1", 11, want),
                     XF_OK);
    ck_assert_int_eq(memcmp(out, want, XF_HASHREF_LEN), 0);

    /* not an address: nothing, in either mode */
    ck_assert_uint_eq(xf_ip_render(XF_IP_RENDER_TRUNCATE,
                                   (const u_char *) "unix:", 5, h, out), 0);
    ck_assert_uint_eq(xf_ip_render(XF_IP_RENDER_HASH,
                                   (const u_char *) "unix:", 5, h, out), 0);
    ck_assert_uint_eq(xf_ip_render(XF_IP_RENDER_TRUNCATE,
                                   (const u_char *) "192.0.2.1:80", 12, h,
                                   out), 0);

    /* hash without a key: nothing, not the address */
    ck_assert_uint_eq(xf_ip_render(XF_IP_RENDER_HASH,
                                   (const u_char *) "192.0.2.1", 9, NULL,
                                   out), 0);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


Suite *
make_ip_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("ip");

    tc = tcase_create("core");
    tcase_add_loop_test(tc, test_ip_table, 0,
                        sizeof(ip_table) / sizeof(ip_table[0]));
    tcase_add_test(tc, test_ip_text_and_families);
    tcase_add_test(tc, test_ip_render);
    suite_add_tcase(s, tc);

    return s;
}
