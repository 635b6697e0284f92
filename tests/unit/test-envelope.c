/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-envelope.c - envelope v1 rendering and event ids.
 */

#include <check.h>
#include <string.h>

#include "xf_envelope.h"
#include "xf_json.h"


START_TEST(test_id_format)
{
    u_char       a[XF_ID_HEX_LEN], b[XF_ID_HEX_LEN];
    xf_id_gen_t  g;

    xf_id_init(&g, 0x0123456789abcdefULL);
    xf_id_next(&g, a);
    xf_id_next(&g, b);

    ck_assert_mem_eq(a, "0123456789abcdef0000000000000000", XF_ID_HEX_LEN);
    ck_assert_mem_eq(b, "0123456789abcdef0000000000000001", XF_ID_HEX_LEN);
}
END_TEST


START_TEST(test_id_counter_wraps_in_hex)
{
    u_char       a[XF_ID_HEX_LEN];
    xf_id_gen_t  g;

    xf_id_init(&g, 0);
    g.seq = 0xfffffffffffffffeULL;
    xf_id_next(&g, a);

    ck_assert_mem_eq(a, "0000000000000000fffffffffffffffe", XF_ID_HEX_LEN);
    ck_assert_uint_eq(g.seq, 0xffffffffffffffffULL);
}
END_TEST


static size_t
render(u_char *out, const xf_envelope_req_t *req, const char *member,
    const char *event)
{
    u_char   head[512], *end;
    size_t   head_len, size;
    u_char   id[XF_ID_HEX_LEN];

    memset(id, 'a', sizeof(id));

    ck_assert_uint_le(xf_envelope_head_size(req), sizeof(head));
    head_len = xf_envelope_head(head, req);
    ck_assert_uint_le(head_len, xf_envelope_head_size(req));

    size = xf_envelope_size(head_len, strlen(member), strlen(event));
    end = xf_envelope_write(out, id, head, head_len, (const u_char *) member,
                            strlen(member), (const u_char *) event,
                            strlen(event));

    ck_assert_uint_eq((size_t) (end - out), size);
    return size;
}


START_TEST(test_envelope_exact_bytes)
{
    u_char             out[1024];
    size_t             n;
    xf_envelope_req_t  req;

    memset(&req, 0, sizeof(req));
    req.ts_ms = 1732492800123ULL;
    req.src = "json";
    req.ip = (const u_char *) "203.0.113.7";
    req.ip_len = strlen("203.0.113.7");

    n = render(out, &req, "", "{\"event\":\"a\"}");
    out[n] = '\0';

    ck_assert_str_eq((char *) out,
        "{\"v\":1,\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"ts\":1732492800123,\"src\":\"json\",\"ip\":\"203.0.113.7\","
        "\"event\":{\"event\":\"a\"}}");
}
END_TEST


START_TEST(test_envelope_extra_and_member)
{
    u_char             out[1024];
    size_t             n;
    xf_envelope_req_t  req;

    memset(&req, 0, sizeof(req));
    req.ts_ms = 0;
    req.src = "sensors";
    req.ip = (const u_char *) "::1";
    req.ip_len = 3;
    req.extra = (const u_char *) ",\"app\":\"shop\"";
    req.extra_len = strlen(",\"app\":\"shop\"");

    n = render(out, &req, ",\"error\":\"not_object\"", "[1]");
    out[n] = '\0';

    ck_assert_str_eq((char *) out,
        "{\"v\":1,\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"ts\":0,\"src\":\"sensors\",\"ip\":\"::1\",\"app\":\"shop\","
        "\"error\":\"not_object\",\"event\":[1]}");
}
END_TEST


START_TEST(test_envelope_is_valid_json)
{
    u_char             out[1024];
    size_t             n, end, err;
    xf_json_span_t     span;
    xf_envelope_req_t  req;

    memset(&req, 0, sizeof(req));
    req.ts_ms = 18446744073709551615ULL;
    req.src = "json";
    /* an address text with a quote cannot come from nginx, but the
     * envelope must stay JSON whatever it is handed */
    req.ip = (const u_char *) "a\"b\\c";
    req.ip_len = 5;

    n = render(out, &req, "", "{\"k\":[1,2,{\"x\":null}]}");

    ck_assert_int_eq(xf_json_scan_value(out, n, 8, &span, &end, &err), XF_OK);
    ck_assert_uint_eq(end, n);
    ck_assert_int_eq(span.type, XF_JSON_OBJECT);
}
END_TEST


Suite *
make_envelope_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("envelope");

    tc = tcase_create("core");
    tcase_add_test(tc, test_id_format);
    tcase_add_test(tc, test_id_counter_wraps_in_hex);
    tcase_add_test(tc, test_envelope_exact_bytes);
    tcase_add_test(tc, test_envelope_extra_and_member);
    tcase_add_test(tc, test_envelope_is_valid_json);
    suite_add_tcase(s, tc);

    return s;
}
