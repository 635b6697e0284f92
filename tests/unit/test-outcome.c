/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-outcome.c - the one table of request outcomes: every outcome has
 * a code, an answer and a default text; an unusable body's outcome
 * carries its status back, takes its code from xf_strerror() and its
 * answer from the status; $xflow_error is empty for what was not
 * refused.
 */

#include <check.h>
#include <string.h>

#include "xf_outcome.h"
#include "xf_unit.h"


START_TEST(test_every_outcome)
{
    unsigned                  o;
    const char               *name;
    const xf_outcome_info_t  *info;

    for (o = XF_OUTCOME_ACCEPTED; o < XF_OUTCOME_MAX; o++) {
        if (o == XF_OUTCOME_UNUSABLE) {
            continue;               /* UNUSABLE + XF_OK: never decided */
        }

        info = xf_outcome_info((xf_outcome_t) o);
        name = xf_outcome_name((xf_outcome_t) o);

        ck_assert_msg(name != NULL && name[0] != '\0', "outcome %u", o);
        ck_assert_msg(info->detail != NULL && info->detail[0] != '\0',
                      "outcome %u", o);
        ck_assert_msg(info->retry ? info->http == 0
                                  : info->http >= 200 && info->http < 600,
                      "outcome %u: http %u", o, info->http);
    }
}
END_TEST


START_TEST(test_refusals)
{
    ck_assert_str_eq(xf_outcome_name(XF_OUTCOME_RATE_LIMITED),
                     "rate_limited");
    ck_assert_str_eq(xf_outcome_name(XF_OUTCOME_QUEUE_FULL), "queue_full");
    ck_assert(!xf_outcome_info(XF_OUTCOME_METHOD_NOT_ALLOWED)->retry);
    ck_assert(xf_outcome_info(XF_OUTCOME_RATE_LIMITED)->retry);
    ck_assert(xf_outcome_info(XF_OUTCOME_RATE_LIMITED)->throttle);
    ck_assert(xf_outcome_info(XF_OUTCOME_QUEUE_FULL)->retry);
    ck_assert(!xf_outcome_info(XF_OUTCOME_QUEUE_FULL)->throttle);
    ck_assert_uint_eq(xf_outcome_info(XF_OUTCOME_METHOD_NOT_ALLOWED)->http,
                      405);
    ck_assert_str_eq(xf_outcome_error(XF_OUTCOME_ACK_TIMEOUT),
                     "ack_timeout");
    ck_assert_int_eq(xf_outcome_status(XF_OUTCOME_ACK_TIMEOUT), XF_OK);

    /* a bot's dropped request: answered as accepted, logged as bot */
    ck_assert_str_eq(xf_outcome_error(XF_OUTCOME_BOT), "bot");
    ck_assert_uint_eq(xf_outcome_info(XF_OUTCOME_BOT)->http, 200);
    ck_assert(!xf_outcome_info(XF_OUTCOME_BOT)->retry);

    /* nothing refused, nothing to say */
    ck_assert_str_eq(xf_outcome_error(XF_OUTCOME_NONE), "");
    ck_assert_str_eq(xf_outcome_error(XF_OUTCOME_ACCEPTED), "");
    ck_assert_int_eq(xf_outcome_status(XF_OUTCOME_ACCEPTED), XF_OK);
}
END_TEST


START_TEST(test_unusable)
{
    static const struct {
        xf_status_t   st;
        unsigned      http;
    } t[] = {
        { XF_ERR_TOO_LARGE, 413 },
        { XF_ERR_EVENT_TOO_LARGE, 413 },
        { XF_ERR_TOO_MANY_EVENTS, 413 },
        { XF_ERR_ENCODING_UNKNOWN, 415 },
        { XF_ERR_NOMEM, 500 },
        { XF_ERR_CORRUPT, 400 },
        { XF_ERR_TRUNCATED, 400 },
        { XF_ERR_JSON_SYNTAX, 400 },
        { XF_ERR_JSON_DEPTH, 400 },
        { XF_ERR_MISSING_FIELD, 400 },
        { XF_ERR_ENCRYPTED, 400 },
    };
    size_t        i;
    xf_outcome_t  o;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        o = xf_outcome_unusable(t[i].st);

        ck_assert_int_eq(xf_outcome_status(o), t[i].st);
        ck_assert_str_eq(xf_outcome_name(o), xf_strerror(t[i].st));
        ck_assert_str_eq(xf_outcome_error(o), xf_strerror(t[i].st));
        ck_assert_msg(xf_outcome_info(o)->http == t[i].http,
                      "case %zu: %u", i, xf_outcome_info(o)->http);
        ck_assert(!xf_outcome_info(o)->retry);
    }

    /* a status without a row of its own is answered as invalid JSON */
    ck_assert_str_eq(xf_outcome_info(xf_outcome_unusable(XF_ERR_CRC))->detail,
                     "the body is not valid JSON");
}
END_TEST


START_TEST(test_out_of_range)
{
    ck_assert_ptr_eq(xf_outcome_info(XF_OUTCOME_MAX),
                     xf_outcome_info(XF_OUTCOME_NONE));
    ck_assert_str_eq(xf_outcome_error(XF_OUTCOME_MAX), "");
    ck_assert_int_eq(xf_outcome_status(XF_OUTCOME_MAX), XF_OK);
}
END_TEST


Suite *
make_outcome_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("outcome");

    tc = tcase_create("core");
    tcase_add_test(tc, test_every_outcome);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_unusable);
    tcase_add_test(tc, test_out_of_range);
    suite_add_tcase(s, tc);

    return s;
}
