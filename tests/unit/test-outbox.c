/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-outbox.c - planning, dead letters, rendering and grouping of one
 * request's messages (core/xf_outbox.c).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_outbox.h"
#include "xf_json.h"
#include "xf_arena.h"


#define S(lit)  ((xf_str_t) { (const u_char *) (lit), sizeof(lit) - 1 })


/* Each test's memory, as a request pool: it goes at teardown. */
static xf_arena_block_t  *arena;
static xf_alloc_t         pool;


static void
arena_setup(void)
{
    arena = NULL;
    pool = xf_arena(&arena);
}


static void
arena_teardown(void)
{
    xf_arena_free(arena);
}


/* Strip callbacks: "strip" rewrites every event to {"s":1} and empties
   a value "secret"; "keep" leaves everything. */

static xf_status_t
strip_event(void *data, const u_char **p, size_t *len)
{
    *p = (const u_char *) "{\"s\":1}";
    *len = 7;
    return XF_OK;
}


static xf_status_t
strip_value(void *data, const u_char *ev, size_t len, xf_str_t *v)
{
    if (v->len == 6 && memcmp(v->data, "secret", 6) == 0) {
        v->len = 0;
    }
    return XF_OK;
}


static xf_status_t
keep_event(void *data, const u_char **p, size_t *len)
{
    return XF_OK;
}


static xf_status_t
keep_value(void *data, const u_char *ev, size_t len, xf_str_t *v)
{
    return XF_OK;
}


static const xf_outbox_strip_t  keep = { keep_event, keep_value, NULL, 0 };
static const xf_outbox_strip_t  strips = { strip_event, strip_value, NULL, 1 };


/* Render ob with a fixed head and ids from seed 0; returns the buffer. */
static u_char *
render_all(xf_outbox_t *ob, size_t *len)
{
    u_char        *buf, *end;
    size_t         size;
    xf_id_gen_t    ids;
    static const char  head[] = "\",\"ts\":1,\"src\":\"json\"";

    xf_id_init(&ids, 0);

    size = xf_outbox_size(ob, sizeof(head) - 1);
    buf = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(buf);

    end = xf_outbox_render(ob, buf, (const u_char *) head, sizeof(head) - 1,
                           &ids);
    ck_assert_uint_eq((size_t) (end - buf), size);

    *len = size;
    return buf;
}


static void
assert_payload(const xf_out_t *o, const char *expect)
{
    ck_assert_uint_eq(o->payload_len, strlen(expect));
    ck_assert_mem_eq(o->payload, expect, o->payload_len);
}


START_TEST(test_event_routed_copies_share_envelope)
{
    size_t             len;
    u_char            *buf;
    xf_str_t           id = S("u1"), app = S("shop");
    xf_outbox_t        ob;
    xf_route_target_t  t[3] = {
        { 2, XF_ROUTE_KEY_DISTINCT }, { 0, XF_ROUTE_KEY_APP },
        { 1, XF_ROUTE_KEY_NONE }
    };

    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, t, 3, &id, &app,
                                     (const u_char *) "{\"e\":1}", 7), XF_OK);
    ck_assert_uint_eq(ob.n, 3);

    buf = render_all(&ob, &len);

    assert_payload(&ob.out[0], "{\"v\":1,\"id\":\"0000000000000000"
                   "0000000000000000\",\"ts\":1,\"src\":\"json\","
                   "\"app\":\"shop\",\"event\":{\"e\":1}}");

    /* one envelope, three messages with their own topic and key */
    ck_assert_ptr_eq(ob.out[1].payload, ob.out[0].payload);
    ck_assert_ptr_eq(ob.out[2].payload, ob.out[0].payload);
    ck_assert_uint_eq(ob.out[0].topic, 2);
    ck_assert_mem_eq(ob.out[0].key.data, "u1", 2);
    ck_assert_mem_eq(ob.out[1].key.data, "shop", 4);
    ck_assert_uint_eq(ob.out[2].key.len, 0);

    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_event_without_app_has_no_member)
{
    size_t             len;
    u_char            *buf;
    xf_str_t           id = S(""), app = S("");
    xf_outbox_t        ob;
    xf_route_target_t  t = { 0, XF_ROUTE_KEY_DISTINCT };

    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, &t, 1, &id, &app,
                                     (const u_char *) "{}", 2), XF_OK);

    buf = render_all(&ob, &len);
    assert_payload(&ob.out[0], "{\"v\":1,\"id\":\"0000000000000000"
                   "0000000000000000\",\"ts\":1,\"src\":\"json\","
                   "\"event\":{}}");
    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_outbox_grows)
{
    size_t             i;
    xf_str_t           id = S("k"), app = S("");
    xf_outbox_t        ob;
    xf_route_target_t  t = { 0, XF_ROUTE_KEY_DISTINCT };

    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);

    for (i = 0; i < 100; i++) {
        t.topic = i % 3;
        ck_assert_int_eq(xf_outbox_event(&ob, &t, 1, &id, &app,
                                         (const u_char *) "{}", 2), XF_OK);
    }

    ck_assert_uint_eq(ob.n, 100);
    ck_assert_uint_eq(ob.out[99].topic, 0);
    xf_outbox_free(&ob);
}
END_TEST


/* What a dead letter holds, by the bytes it is given. */
static const struct {
    const char  *bytes;
    int          strips;
    const char  *event;         /* the "event" member */
    const char  *member;        /* what precedes it */
} dead_letters[] = {
    /* an object: kept, stripped like an event */
    { "{\"a\":1}", 0, "{\"a\":1}", ",\"app\":\"x\",\"error\":\"r\"" },
    { "{\"a\":1}", 1, "{\"s\":1}", ",\"app\":\"x\",\"error\":\"r\"" },
    /* another JSON value: kept, or withheld when fields are stripped */
    { "[1,2]", 0, "[1,2]", ",\"app\":\"x\",\"error\":\"r\"" },
    { "[1,2]", 1, "null", ",\"app\":\"x\",\"error\":\"r\","
                          "\"raw\":\"withheld\",\"raw_len\":5" },
    /* not JSON: base64, or withheld */
    { "\x1f\x8b\x08", 0, "\"H4sI\"", ",\"app\":\"x\",\"error\":\"r\","
                                     "\"raw\":\"base64\"" },
    { "not json", 1, "null", ",\"app\":\"x\",\"error\":\"r\","
                             "\"raw\":\"withheld\",\"raw_len\":8" },
    /* nothing at all: an empty base64 string */
    { "", 1, "\"\"", ",\"app\":\"x\",\"error\":\"r\",\"raw\":\"base64\"" },
};


START_TEST(test_dead_letter_shapes)
{
    char         expect[512];
    size_t       len;
    u_char      *buf;
    xf_str_t     app = S("x");
    xf_outbox_t  ob;

    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_dead_letter(&ob, 4,
                         (const u_char *) dead_letters[_i].bytes,
                         strlen(dead_letters[_i].bytes), &app, "r", NULL,
                         dead_letters[_i].strips ? &strips : &keep),
                     XF_OK);
    ck_assert_uint_eq(ob.out[0].topic, 4);

    buf = render_all(&ob, &len);

    snprintf(expect, sizeof(expect), "{\"v\":1,\"id\":\"0000000000000000"
             "0000000000000000\",\"ts\":1,\"src\":\"json\"%s,\"event\":%s}",
             dead_letters[_i].member, dead_letters[_i].event);
    assert_payload(&ob.out[0], expect);

    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_dead_letter_strips_app)
{
    size_t       len;
    u_char      *buf;
    xf_str_t     app = S("secret");
    xf_outbox_t  ob;

    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_dead_letter(&ob, 0, (const u_char *) "{}", 2,
                                           &app, "r", NULL, &strips), XF_OK);

    buf = render_all(&ob, &len);
    assert_payload(&ob.out[0], "{\"v\":1,\"id\":\"0000000000000000"
                   "0000000000000000\",\"ts\":1,\"src\":\"json\","
                   "\"error\":\"r\",\"event\":{\"s\":1}}");
    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_request_dead_letter)
{
    size_t               len;
    u_char              *buf;
    xf_str_t             app = S(""), member;
    xf_outbox_t          ob;
    xf_outbox_request_t  what = {
        S("POST"), S("/c?\"q\""), S("text/plain"), S("")
    };

    ck_assert_int_eq(xf_outbox_request_member(&what, &pool, &member),
                     XF_OK);
    ck_assert_uint_eq(member.len, strlen(",\"request\":{\"method\":\"POST\","
                      "\"uri\":\"/c?\\\"q\\\"\",\"content_type\":"
                      "\"text/plain\",\"content_encoding\":\"\"}"));

    /* a whole request is withheld when fields are stripped: no walk */
    ck_assert_int_eq(xf_outbox_init(&ob, 1, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_dead_letter(&ob, 0, (const u_char *) "{}", 2,
                                           &app, "json_syntax", &member,
                                           &strips), XF_OK);

    buf = render_all(&ob, &len);
    assert_payload(&ob.out[0], "{\"v\":1,\"id\":\"0000000000000000"
                   "0000000000000000\",\"ts\":1,\"src\":\"json\","
                   "\"error\":\"json_syntax\",\"request\":{\"method\":"
                   "\"POST\",\"uri\":\"/c?\\\"q\\\"\",\"content_type\":"
                   "\"text/plain\",\"content_encoding\":\"\"},"
                   "\"raw\":\"withheld\",\"raw_len\":2,\"event\":null}");
    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_raw_message_and_group)
{
    size_t             len, count[3], order[4];
    u_char            *buf;
    xf_str_t           id = S("a"), app = S(""), key = S("ref");
    xf_outbox_t        ob;
    xf_route_target_t  t[2] = {
        { 2, XF_ROUTE_KEY_DISTINCT }, { 0, XF_ROUTE_KEY_DISTINCT }
    };

    ck_assert_int_eq(xf_outbox_init(&ob, 2, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, t, 2, &id, &app,
                                     (const u_char *) "{}", 2), XF_OK);
    ck_assert_int_eq(xf_outbox_raw(&ob, 2, &key, (const u_char *) "{\"ua\":1}",
                                   8), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, t + 1, 1, &id, &app,
                                     (const u_char *) "[]", 2), XF_OK);

    buf = render_all(&ob, &len);
    assert_payload(&ob.out[2], "{\"ua\":1}");
    ck_assert_mem_eq(ob.out[2].key.data, "ref", 3);

    /* topic by topic, plan order within one */
    ck_assert_int_eq(xf_outbox_group(&ob, 3, count, order), XF_OK);
    ck_assert_uint_eq(count[0], 2);
    ck_assert_uint_eq(count[1], 0);
    ck_assert_uint_eq(count[2], 2);
    ck_assert_uint_eq(order[0], 1);
    ck_assert_uint_eq(order[1], 3);
    ck_assert_uint_eq(order[2], 0);
    ck_assert_uint_eq(order[3], 2);

    /* a topic out of range is the caller's bug, not a crash */
    ck_assert_int_eq(xf_outbox_group(&ob, 2, count, order), XF_ERR_BUFFER);

    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_envelope_id_round_trip)
{
    size_t             len;
    u_char            *buf;
    xf_str_t           id = S(""), app = S(""), got;
    xf_outbox_t        ob;
    xf_route_target_t  t = { 0, XF_ROUTE_KEY_NONE };

    ck_assert_int_eq(xf_outbox_init(&ob, 2, &pool), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, &t, 1, &id, &app,
                                     (const u_char *) "{}", 2), XF_OK);
    ck_assert_int_eq(xf_outbox_event(&ob, &t, 1, &id, &app,
                                     (const u_char *) "{}", 2), XF_OK);

    buf = render_all(&ob, &len);

    ck_assert_int_eq(xf_outbox_envelope_id(ob.out[1].payload,
                                           ob.out[1].payload_len, &got),
                     XF_OK);
    ck_assert_mem_eq(got.data, "00000000000000000000000000000001",
                     XF_ID_HEX_LEN);

    ck_assert_int_eq(xf_outbox_envelope_id((const u_char *) "{\"v\":1}", 7,
                                           &got), XF_ERR_MISSING_FIELD);

    free(buf);
    xf_outbox_free(&ob);
}
END_TEST


START_TEST(test_refused_notice)
{
    u_char       out[512];
    size_t       n;
    const char  *env = "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\","
                       "\"event\":{}}";

    n = xf_outbox_refused(out, sizeof(out), (const u_char *) env, strlen(env),
                          42, "MSG_SIZE_TOO_LARGE", "events");
    out[n] = '\0';
    ck_assert_str_eq((char *) out, "{\"v\":1,\"id\":\"0123456789abcdef"
                     "0123456789abcdef\",\"ts\":42,\"error\":"
                     "\"MSG_SIZE_TOO_LARGE\",\"topic\":\"events\","
                     "\"size\":58}");

    /* not an envelope: no id; cut to the buffer, NUL-terminated */
    n = xf_outbox_refused(out, 16, (const u_char *) "x", 1, 1, "E", "t");
    ck_assert_uint_eq(n, 15);
    ck_assert_mem_eq(out, "{\"v\":1,\"id\":\"\",", 15);
}
END_TEST


Suite *
make_outbox_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("outbox");

    tc = tcase_create("core");
    tcase_add_checked_fixture(tc, arena_setup, arena_teardown);
    tcase_add_test(tc, test_event_routed_copies_share_envelope);
    tcase_add_test(tc, test_event_without_app_has_no_member);
    tcase_add_test(tc, test_outbox_grows);
    tcase_add_loop_test(tc, test_dead_letter_shapes, 0,
                        sizeof(dead_letters) / sizeof(dead_letters[0]));
    tcase_add_test(tc, test_dead_letter_strips_app);
    tcase_add_test(tc, test_request_dead_letter);
    tcase_add_test(tc, test_raw_message_and_group);
    tcase_add_test(tc, test_envelope_id_round_trip);
    tcase_add_test(tc, test_refused_notice);
    suite_add_tcase(s, tc);

    return s;
}
