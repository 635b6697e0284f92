/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-outbox.c - plan, render and parse back one request's messages.
 *
 * Input: records of [op][len][len bytes].  op's low 2 bits: 0 an event
 * routed to 1-4 targets (op's bits 2-7 pick topics and keys), 1 a dead
 * letter (bit 2: fields are stripped), 2 a raw message, 3 a dead letter
 * with a request member.
 *
 * Invariants: rendering writes exactly xf_outbox_size() bytes; every
 * envelope parses back to the id it was rendered with, in order; copies
 * share their envelope; dead letters are always one valid JSON value,
 * and so is an event's envelope when its bytes were; grouping is a
 * stable permutation, topic by topic.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"
#include "xf_outbox.h"
#include "xf_arena.h"
#include "fuzz.h"


#define FUZZ_TOPICS  5


static xf_status_t
fuzz_strip_event(void *data, const u_char **p, size_t *len)
{
    /* the rules may shorten an event: keep a prefix of it */
    if (*len > 8 && (*p)[0] == '{' && (*p)[1] == '}') {
        *len = 2;
    }

    return XF_OK;
}


static xf_status_t
fuzz_strip_value(void *data, const u_char *event, size_t len, xf_str_t *v)
{
    if (v->len > 3) {
        v->len = 3;
    }

    return XF_OK;
}


static int
fuzz_valid_json(const u_char *p, size_t len)
{
    size_t          end, err;
    xf_json_span_t  span;

    return len && xf_json_scan_value(p, len, 64, &span, &end, &err) == XF_OK
           && span.off == 0 && end == len;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *buf, *end, expect[XF_ID_HEX_LEN];
    size_t               i, j, len, n, total, count[FUZZ_TOPICS];
    size_t              *order, seen;
    uint8_t              op;
    xf_str_t             id, app, member;
    xf_outbox_t          ob;
    xf_id_gen_t          ids, again;
    unsigned            *kind;
    xf_route_target_t    t[4];
    xf_outbox_strip_t    strip;
    xf_outbox_request_t  what;

    xf_alloc_t           a;
    xf_arena_block_t    *arena;

    static const char  head[] = "\",\"ts\":1,\"src\":\"json\"";

    arena = NULL;
    a = xf_arena(&arena);

    if (xf_outbox_init(&ob, 1, &a) != XF_OK) {
        return 0;
    }

    /* per message: 1 the payload must be valid JSON */
    kind = calloc(size * 4 + 1, sizeof(unsigned));
    if (kind == NULL) {
        xf_arena_free(arena);
        return 0;
    }

    strip.strip_event = fuzz_strip_event;
    strip.strip_value = fuzz_strip_value;
    strip.data = NULL;

    app.data = (const u_char *) "app\"\\";
    app.len = 5;

    while (size >= 2) {
        op = data[0];
        len = data[1] < size - 2 ? data[1] : size - 2;
        data += 2;
        size -= 2;

        id.data = data;
        id.len = len < 8 ? len : 8;

        switch (op & 3) {

        case 0:
            n = 1 + ((op >> 2) & 3);
            for (i = 0; i < n; i++) {
                t[i].topic = ((op >> 4) + i) % FUZZ_TOPICS;
                t[i].key = (xf_route_key_t) ((op >> (i + 2)) % 3);
            }

            j = ob.n;
            if (xf_outbox_event(&ob, t, n, &id, &app, data, len) != XF_OK) {
                FUZZ_FAIL("xf_outbox_event(&ob, t, n, &id, &app, data, len) != "
                          "XF_OK");
            }

            kind[j] = fuzz_valid_json(data, len);
            break;

        case 2:
            if (xf_outbox_raw(&ob, (op >> 5) % FUZZ_TOPICS, &id, data, len)
                != XF_OK)
            {
                FUZZ_FAIL("xf_outbox_raw(&ob, (op >> 5) % FUZZ_TOPICS, &id, "
                          "data, len) != XF_OK");
            }

            break;

        default:
            strip.strips = (op >> 2) & 1;
            member.data = NULL;
            member.len = 0;

            if ((op & 3) == 3) {
                memset(&what, 0, sizeof(what));
                what.uri.data = data;
                what.uri.len = len;

                if (xf_outbox_request_member(&what, &a, &member)
                    != XF_OK)
                {
                    FUZZ_FAIL("xf_outbox_request_member(&what, &a, &member) != "
                              "XF_OK");
                }
            }

            j = ob.n;
            if (xf_outbox_dead_letter(&ob, (op >> 3) % FUZZ_TOPICS, data,
                                      len, &app, "reason",
                                      member.data ? &member : NULL, &strip)
                != XF_OK)
            {
                FUZZ_FAIL("xf_outbox_dead_letter(&ob, (op >> 3) % FUZZ_TOPICS, "
                          "data, len, &app, \"reason\", member.data ? &member "
                          ": NULL, &strip) != XF_OK");
            }

            kind[j] = 1;
            break;
        }

        data += len;
        size -= len;
    }

    total = xf_outbox_size(&ob, sizeof(head) - 1);
    buf = malloc(total + 1);
    order = malloc((ob.n + 1) * sizeof(size_t));

    if (buf == NULL || order == NULL) {
        FUZZ_FAIL("out of memory");
    }

    xf_id_init(&ids, 0x1234);
    end = xf_outbox_render(&ob, buf, (const u_char *) head, sizeof(head) - 1,
                           &ids);

    if ((size_t) (end - buf) != total) {
        FUZZ_FAIL("(size_t) (end - buf) != total");
    }

    /* ids parse back in render order; copies share their envelope */
    xf_id_init(&again, 0x1234);

    for (i = 0; i < ob.n; i++) {
        if (ob.out[i].copy_of >= 0) {
            if (ob.out[i].payload != ob.out[ob.out[i].copy_of].payload) {
                FUZZ_FAIL("ob.out[i].payload != "
                          "ob.out[ob.out[i].copy_of].payload");
            }
            continue;
        }

        if (ob.out[i].raw) {
            if (ob.out[i].payload_len != ob.out[i].event_len
                || memcmp(ob.out[i].payload, ob.out[i].event,
                          ob.out[i].event_len) != 0)
            {
                FUZZ_FAIL("ob.out[i].payload_len != ob.out[i].event_len || "
                          "memcmp(ob.out[i].payload, ob.out[i].event, "
                          "ob.out[i].event_len) != 0");
            }
            continue;
        }

        xf_id_next(&again, expect);

        if (xf_outbox_envelope_id(ob.out[i].payload, ob.out[i].payload_len,
                                  &id)
            != XF_OK
            || memcmp(id.data, expect, XF_ID_HEX_LEN) != 0)
        {
            FUZZ_FAIL("xf_outbox_envelope_id(ob.out[i].payload, "
                      "ob.out[i].payload_len, &id) != XF_OK || memcmp(id.data, "
                      "expect, XF_ID_HEX_LEN) != 0");
        }

        if (kind[i] && !fuzz_valid_json(ob.out[i].payload,
                                        ob.out[i].payload_len))
        {
            FUZZ_FAIL("kind[i] && !fuzz_valid_json(ob.out[i].payload, "
                      "ob.out[i].payload_len)");
        }
    }

    /* grouping: every message once, topics in order, stable within */
    if (xf_outbox_group(&ob, FUZZ_TOPICS, count, order) != XF_OK) {
        FUZZ_FAIL("xf_outbox_group(&ob, FUZZ_TOPICS, count, order) != XF_OK");
    }

    seen = 0;
    for (i = 0; i < FUZZ_TOPICS; i++) {
        seen += count[i];
    }

    if (seen != ob.n) {
        FUZZ_FAIL("seen != ob.n");
    }

    for (i = 1; i < ob.n; i++) {
        if (ob.out[order[i]].topic < ob.out[order[i - 1]].topic
            || (ob.out[order[i]].topic == ob.out[order[i - 1]].topic
                && order[i] <= order[i - 1]))
        {
            FUZZ_FAIL("ob.out[order[i]].topic < ob.out[order[i - 1]].topic || "
                      "(ob.out[order[i]].topic == ob.out[order[i - 1]].topic "
                      "&& order[i] <= order[i - 1])");
        }
    }

    free(order);
    free(buf);
    free(kind);

    xf_outbox_free(&ob);
    xf_arena_free(arena);

    return 0;
}
