/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ledger.c - the ledger's slots: balanced deltas, claiming the
 * slots of dead processes (their in-flight events orphaned), a reload
 * keeping the counts, the text, and a reader that never sees a slot
 * halfway through a change while another process writes it.
 */

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_ledger.h"


static xf_ledger_t *
ledger(uint32_t nslots, void **mem)
{
    int           fresh;
    xf_ledger_t  *l;

    *mem = malloc(xf_ledger_size(nslots));
    ck_assert_ptr_nonnull(*mem);
    memset(*mem, 0xa5, xf_ledger_size(nslots));

    l = xf_ledger_init(*mem, xf_ledger_size(nslots), 7, &fresh);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(fresh, 1);
    ck_assert_uint_eq(xf_ledger_nslots(l), nslots);

    return l;
}


/* The pids the tests call dead. */
static int
alive(int64_t pid, void *data)
{
    const int64_t  *dead = data;

    for ( ; dead != NULL && *dead; dead++) {
        if (*dead == pid) {
            return 0;
        }
    }

    return 1;
}


/* n events received and sent to Kafka. */
static xf_ledger_cells_t
sent(int64_t n)
{
    xf_ledger_cells_t  d;

    memset(&d, 0, sizeof(d));
    d.v[XF_LEDGER_RECEIVED] = n;
    d.v[XF_LEDGER_IN_FLIGHT] = n;

    return d;
}


/* n events in flight reach fate. */
static xf_ledger_cells_t
reported(int64_t n, xf_ledger_cell_t fate)
{
    xf_ledger_cells_t  d;

    memset(&d, 0, sizeof(d));
    d.v[XF_LEDGER_IN_FLIGHT] = -n;
    d.v[fate] = n;

    if (fate == XF_LEDGER_SPOOLED) {
        d.v[XF_LEDGER_SPOOL_ENTERED] = n;
    }

    return d;
}


START_TEST(test_balance)
{
    xf_ledger_cells_t  d;

    memset(&d, 0, sizeof(d));
    ck_assert(xf_ledger_balanced(&d));
    ck_assert(xf_ledger_empty(&d));

    d = sent(5);
    ck_assert(xf_ledger_balanced(&d));

    /* received alone is not balanced */
    d.v[XF_LEDGER_IN_FLIGHT] = 0;
    ck_assert_int_eq(xf_ledger_unbalanced(&d), 5);

    /* spooled is a fate; what entered the spool is no part of the sum */
    d = reported(3, XF_LEDGER_SPOOLED);
    ck_assert(xf_ledger_balanced(&d));
    d.v[XF_LEDGER_SPOOL_ENTERED] = 0;
    ck_assert(xf_ledger_balanced(&d));
    d.v[XF_LEDGER_SPOOLED] = 0;
    ck_assert_int_eq(xf_ledger_unbalanced(&d), 3);

    d = reported(2, XF_LEDGER_DELIVERED);
    ck_assert(xf_ledger_balanced(&d));

    /* every move keeps a delta balanced */
    memset(&d, 0, sizeof(d));
    xf_ledger_move(&d, XF_LEDGER_RECEIVED, XF_LEDGER_IN_FLIGHT, 9);
    xf_ledger_move(&d, XF_LEDGER_RECEIVED, XF_LEDGER_DEAD_LETTERED, 2);
    xf_ledger_move(&d, XF_LEDGER_IN_FLIGHT, XF_LEDGER_SPOOLED, 4);
    xf_ledger_move(&d, XF_LEDGER_SPOOLED, XF_LEDGER_DELIVERED, 3);
    xf_ledger_move(&d, XF_LEDGER_IN_FLIGHT, XF_LEDGER_FAILED, 1);
    ck_assert(xf_ledger_balanced(&d));
    ck_assert_int_eq(d.v[XF_LEDGER_RECEIVED], 11);
    ck_assert_int_eq(d.v[XF_LEDGER_IN_FLIGHT], 4);
    ck_assert_int_eq(d.v[XF_LEDGER_SPOOLED], 1);
    ck_assert_int_eq(d.v[XF_LEDGER_SPOOL_ENTERED], 4);
    ck_assert_int_eq(d.v[XF_LEDGER_DELIVERED], 3);

    /* what is not a move changes nothing */
    xf_ledger_move(&d, XF_LEDGER_DELIVERED, XF_LEDGER_FAILED, 5);
    xf_ledger_move(&d, XF_LEDGER_RECEIVED, XF_LEDGER_SPOOL_ENTERED, 5);
    xf_ledger_move(&d, XF_LEDGER_SPOOL_ENTERED, XF_LEDGER_DELIVERED, 5);
    xf_ledger_move(&d, XF_LEDGER_IN_FLIGHT, XF_LEDGER_IN_FLIGHT, 5);
    ck_assert_int_eq(d.v[XF_LEDGER_RECEIVED], 11);
    ck_assert_int_eq(d.v[XF_LEDGER_IN_FLIGHT], 4);

    ck_assert_str_eq(xf_ledger_fate_name(XF_LEDGER_DEAD_LETTERED),
                     "dead_lettered");
    ck_assert_str_eq(xf_ledger_fate_name(XF_LEDGER_ORPHANED), "orphaned");
    ck_assert_ptr_null(xf_ledger_fate_name(XF_LEDGER_RECEIVED));
}
END_TEST


START_TEST(test_commit_total)
{
    void               *mem;
    int32_t             a, b;
    xf_ledger_t        *l;
    xf_ledger_cells_t   d, sum;

    l = ledger(4, &mem);

    a = xf_ledger_claim(l, 100, alive, NULL);
    b = xf_ledger_claim(l, 101, alive, NULL);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    ck_assert_int_ne(a, b);

    d = sent(10);
    xf_ledger_commit(l, a, 0, &d);
    d = reported(6, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, 0, &d);
    d = reported(4, XF_LEDGER_SPOOLED);
    xf_ledger_commit(l, a, 0, &d);

    /* b replays what a spooled: its own slot gives what it never took */
    memset(&d, 0, sizeof(d));
    xf_ledger_move(&d, XF_LEDGER_SPOOLED, XF_LEDGER_DELIVERED, 4);
    xf_ledger_commit(l, b, 0, &d);

    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 10);
    ck_assert_int_eq(sum.v[XF_LEDGER_DELIVERED], 10);
    ck_assert_int_eq(sum.v[XF_LEDGER_SPOOLED], 0);
    ck_assert_int_eq(sum.v[XF_LEDGER_SPOOL_ENTERED], 4);
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 0);
    ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);

    /* each slot balances on its own */
    ck_assert(xf_ledger_read(l, b, 0, &d));
    ck_assert_int_eq(d.v[XF_LEDGER_SPOOLED], -4);
    ck_assert(xf_ledger_balanced(&d));

    /* out of range: nothing */
    xf_ledger_commit(l, 9, 0, &d);
    xf_ledger_commit(l, -1, 0, &d);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_DELIVERED], 10);

    free(mem);
}
END_TEST


START_TEST(test_dead_orphaned)
{
    void               *mem;
    int64_t             dead[2];
    int32_t             a, b, c;
    xf_ledger_t        *l;
    xf_ledger_cells_t   d, sum;

    l = ledger(2, &mem);

    a = xf_ledger_claim(l, 200, alive, NULL);
    b = xf_ledger_claim(l, 201, alive, NULL);
    ck_assert_int_ge(b, 0);

    d = sent(7);
    xf_ledger_commit(l, a, 0, &d);
    d = reported(2, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, 0, &d);

    /* every slot is taken by a live process */
    ck_assert_int_eq(xf_ledger_claim(l, 202, alive, NULL), -1);

    /* 200 dies with 5 in flight: the next claim settles and takes it */
    dead[0] = 200;
    dead[1] = 0;
    c = xf_ledger_claim(l, 202, alive, dead);
    ck_assert_int_eq(c, a);

    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 0);
    ck_assert_int_eq(sum.v[XF_LEDGER_ORPHANED], 5);
    ck_assert_int_eq(sum.v[XF_LEDGER_DELIVERED], 2);
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 7);
    ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);

    /* a release with events in flight orphans them too */
    d = sent(3);
    xf_ledger_commit(l, b, 0, &d);
    xf_ledger_release(l, b, 999);               /* not the owner: nothing */
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 3);
    xf_ledger_release(l, b, 201);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 0);
    ck_assert_int_eq(sum.v[XF_LEDGER_ORPHANED], 8);

    /* the freed slot is claimable, its counts kept */
    ck_assert_int_eq(xf_ledger_claim(l, 203, alive, NULL), b);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 10);

    free(mem);
}
END_TEST


START_TEST(test_reload_keeps)
{
    void               *mem;
    int                 fresh;
    int32_t             a;
    xf_ledger_t        *l;
    xf_ledger_cells_t   d, sum;

    l = ledger(8, &mem);
    a = xf_ledger_claim(l, 300, alive, NULL);
    d = sent(4);
    xf_ledger_commit(l, a, 0, &d);

    l = xf_ledger_init(mem, xf_ledger_size(8), 8, &fresh);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(fresh, 0);
    /* the generation of the count it keeps, not the new caller's */
    ck_assert_uint_eq(xf_ledger_generation(l), 7);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 4);

    ck_assert_ptr_null(xf_ledger_init(mem, xf_ledger_size(1), 9, NULL));

    free(mem);
}
END_TEST


START_TEST(test_render)
{
    void               *mem;
    int32_t             a, json, mp;
    char               *text;
    xf_ledger_t        *l;
    xf_buf_t            out;
    xf_ledger_cells_t   d;

    l = ledger(2, &mem);
    json = xf_ledger_series(l, (const u_char *) "/collect", 8,
                            (const u_char *) "json", 4);
    mp = xf_ledger_series(l, (const u_char *) "~ \"x\\", 5,
                          (const u_char *) "mixpanel", 8);
    a = xf_ledger_claim(l, 400, alive, NULL);
    d = sent(12);
    xf_ledger_commit(l, a, json, &d);
    d = reported(5, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, json, &d);

    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(xf_ledger_render(l, &out, &xf_alloc_libc), XF_OK);

    text = strndup((char *) out.p, out.len);
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_events_total counter\n"
        "xflow_ledger_events_total{location=\"/collect\",format=\"json\","
        "fate=\"delivered\"} 5\n"
        "xflow_ledger_events_total{location=\"/collect\",format=\"json\","
        "fate=\"dead_lettered\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "xflow_ledger_events_total{location=\"/collect\",format=\"json\","
        "fate=\"orphaned\"} 0\n"));
    /* a configured series from the start, its label value escaped */
    ck_assert_ptr_nonnull(strstr(text,
        "xflow_ledger_received_events_total{location=\"~ \\\"x\\\\\","
        "format=\"mixpanel\"} 0\n"));
    /* series 0 only once it counts */
    ck_assert_ptr_null(strstr(text, "unknown"));
    /* spooled goes down: a gauge, never a counter's series */
    ck_assert_ptr_null(strstr(text, "fate=\"spooled\""));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_spooled_events gauge\n"
        "xflow_ledger_spooled_events{location=\"/collect\",format=\"json\"} "
        "0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_spool_entered_events_total counter\n"
        "xflow_ledger_spool_entered_events_total{location=\"/collect\","
        "format=\"json\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "\nxflow_ledger_received_events_total{location=\"/collect\","
        "format=\"json\"} 12\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "\nxflow_ledger_in_flight_events{location=\"/collect\","
        "format=\"json\"} 7\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_unbalanced_events gauge\n"
        "xflow_ledger_unbalanced_events 0\n"));
    ck_assert_int_eq(text[strlen(text) - 1], '\n');
    free(text);

    d = sent(1);
    xf_ledger_commit(l, a, 0, &d);
    out.len = 0;
    ck_assert_int_eq(xf_ledger_render(l, &out, &xf_alloc_libc), XF_OK);
    text = strndup((char *) out.p, out.len);
    ck_assert_ptr_nonnull(strstr(text,
        "\nxflow_ledger_in_flight_events{location=\"unknown\","
        "format=\"unknown\"} 1\n"));
    free(text);

    free(out.p);
    free(mem);
    (void) mp;
}
END_TEST


/*
 * A series per location and format: found again by its names, kept by a
 * reload, bounded (what does not fit counts in series 0), and each one
 * balanced on its own.
 */
START_TEST(test_series)
{
    void               *mem;
    int                 fresh;
    char                name[16], longname[100];
    size_t              ll, fl;
    int32_t             a, s1, s2, i;
    const char         *loc, *fmt;
    xf_ledger_t        *l;
    xf_ledger_cells_t   d, sum;

    l = ledger(2, &mem);

    s1 = xf_ledger_series(l, (const u_char *) "/e/", 3,
                          (const u_char *) "posthog", 7);
    s2 = xf_ledger_series(l, (const u_char *) "/e/", 3,
                          (const u_char *) "segment", 7);
    ck_assert_int_eq(s1, 1);
    ck_assert_int_eq(s2, 2);
    ck_assert_int_eq(xf_ledger_series(l, (const u_char *) "/e/", 3,
                                      (const u_char *) "posthog", 7), s1);
    ck_assert_int_eq(xf_ledger_series_find(l, (const u_char *) "/e/", 3,
                                           (const u_char *) "segment", 7),
                     s2);
    ck_assert_int_eq(xf_ledger_series_find(l, (const u_char *) "/x", 2,
                                           (const u_char *) "json", 4), 0);
    ck_assert_int_eq(xf_ledger_series(l, (const u_char *) "", 0,
                                      (const u_char *) "json", 4), 0);

    ck_assert(xf_ledger_series_name(l, s2, &loc, &ll, &fmt, &fl));
    ck_assert_int_eq(ll, 3);
    ck_assert_int_eq(memcmp(loc, "/e/", 3), 0);
    ck_assert_int_eq(memcmp(fmt, "segment", fl), 0);
    ck_assert(xf_ledger_series_name(l, 0, &loc, &ll, &fmt, &fl));
    ck_assert_int_eq(memcmp(loc, "unknown", ll), 0);
    ck_assert(!xf_ledger_series_name(l, 40, &loc, &ll, &fmt, &fl));

    /* a long name is cut, never inside a UTF-8 sequence */
    memset(longname, 'a', sizeof(longname));
    memcpy(longname + XF_LEDGER_LOCATION_MAX - 1, "\xc3\xa9", 2);
    i = xf_ledger_series(l, (const u_char *) longname, sizeof(longname),
                         (const u_char *) "json", 4);
    ck_assert(xf_ledger_series_name(l, i, &loc, &ll, &fmt, &fl));
    ck_assert_int_eq(ll, XF_LEDGER_LOCATION_MAX - 1);
    ck_assert_int_eq(xf_ledger_series_find(l, (const u_char *) longname,
                                           sizeof(longname),
                                           (const u_char *) "json", 4), i);

    /* each series balances on its own, and so does the sum */
    a = xf_ledger_claim(l, 500, alive, NULL);
    d = sent(4);
    xf_ledger_commit(l, a, s1, &d);
    d = reported(3, XF_LEDGER_SPOOLED);
    xf_ledger_commit(l, a, s1, &d);
    d = sent(2);
    xf_ledger_commit(l, a, s2, &d);
    ck_assert(xf_ledger_series_total(l, s1, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_SPOOLED], 3);
    ck_assert(xf_ledger_balanced(&sum));
    ck_assert(xf_ledger_series_total(l, s2, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 2);
    ck_assert(xf_ledger_balanced(&sum));
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 6);

    /* a dead process's in flight, every series of it, orphaned */
    xf_ledger_release(l, a, 500);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_ORPHANED], 3);
    ck_assert(xf_ledger_series_total(l, s2, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_ORPHANED], 2);

    /* a spool record's origin names its series, in any process */
    {
        u_char  o[XF_LEDGER_ORIGIN_MAX];
        size_t  n;

        n = xf_ledger_origin(l, s2, o, sizeof(o));
        ck_assert_int_eq(n, 11);
        ck_assert_int_eq(memcmp(o, "segment /e/", 11), 0);
        ck_assert_int_eq(xf_ledger_origin_series(l, o, n, 0), s2);
        ck_assert_int_eq(xf_ledger_origin(l, 0, o, sizeof(o)), 0);
        ck_assert_int_eq(xf_ledger_origin(l, s2, o, 5), 0);

        /* a record of an earlier version: empty, series 0 */
        ck_assert_int_eq(xf_ledger_origin_series(l, o, 0, 1), 0);
        ck_assert_int_eq(xf_ledger_origin_series(l, (const u_char *) "json",
                                                 4, 1), 0);

        /* a location with a space; one no longer configured: found by
           the master's count at start (add), else series 0 */
        ck_assert_int_eq(xf_ledger_origin_series(l, (const u_char *)
                                                 "json ~ a b", 10, 0), 0);
        i = xf_ledger_origin_series(l, (const u_char *) "json ~ a b", 10, 1);
        ck_assert_int_gt(i, 0);
        ck_assert(xf_ledger_series_name(l, i, &loc, &ll, &fmt, &fl));
        ck_assert_int_eq(memcmp(loc, "~ a b", ll), 0);
        ck_assert_int_eq(xf_ledger_origin_series(l, (const u_char *)
                                                 "json ~ a b", 10, 0), i);
    }

    /* a reload keeps the names with the counts */
    l = xf_ledger_init(mem, xf_ledger_size(2), 9, &fresh);
    ck_assert_int_eq(fresh, 0);
    ck_assert_int_eq(xf_ledger_series_find(l, (const u_char *) "/e/", 3,
                                           (const u_char *) "segment", 7),
                     s2);

    /* every series taken: series 0 */
    for (i = 0; i < XF_LEDGER_SERIES; i++) {
        snprintf(name, sizeof(name), "/l%d", i);
        (void) xf_ledger_series(l, (const u_char *) name, strlen(name),
                                (const u_char *) "json", 4);
    }

    ck_assert_int_eq(xf_ledger_series(l, (const u_char *) "/new", 4,
                                      (const u_char *) "json", 4), 0);
    ck_assert_int_eq(xf_ledger_series(l, (const u_char *) "/e/", 3,
                                      (const u_char *) "posthog", 7), s1);

    /* out of range: nothing */
    d = sent(1);
    xf_ledger_commit(l, 0, XF_LEDGER_SERIES, &d);
    xf_ledger_commit(l, 0, -1, &d);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 6);

    free(mem);
}
END_TEST


/*
 * Two writer processes commit balanced changes as fast as they can, one
 * of them SIGKILLed in the middle; the reader never sees an imbalance,
 * and what the killed one had in flight is orphaned by the next claim.
 */
START_TEST(test_processes)
{
    int                 i, status;
    void               *mem;
    pid_t               pid[2];
    int64_t             dead[2];
    size_t              size;
    xf_ledger_t        *l;
    xf_ledger_cells_t   d, sum;

    size = xf_ledger_size(4);
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);

    l = xf_ledger_init(mem, size, 1, NULL);
    ck_assert_ptr_nonnull(l);

    for (i = 0; i < 2; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);

        if (pid[i] == 0) {
            int32_t   slot;
            uint64_t  k;

            slot = xf_ledger_claim(l, getpid(), alive, NULL);

            for (k = 0; i == 0 || k < 200000; k++) {
                d = sent(3);
                xf_ledger_commit(l, slot, (int32_t) (k % 3), &d);
                d = reported(1, XF_LEDGER_DELIVERED);
                xf_ledger_commit(l, slot, (int32_t) (k % 3), &d);
                d = reported(1, XF_LEDGER_SPOOLED);
                xf_ledger_commit(l, slot, (int32_t) (k % 3), &d);
            }

            _exit(0);
        }
    }

    for (i = 0; i < 20000; i++) {
        ck_assert(xf_ledger_total(l, &sum));
        ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);
    }

    kill(pid[0], SIGKILL);

    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
    }

    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);
    ck_assert_int_gt(sum.v[XF_LEDGER_IN_FLIGHT], 0);

    dead[0] = pid[0];
    dead[1] = 0;
    ck_assert_int_ge(xf_ledger_claim(l, 1, alive, dead), 0);

    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 200000);   /* pid[1]'s */
    ck_assert_int_gt(sum.v[XF_LEDGER_ORPHANED], 0);

    munmap(mem, size);
}
END_TEST


Suite *
make_ledger_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("ledger");

    tc = tcase_create("core");
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_commit_total);
    tcase_add_test(tc, test_dead_orphaned);
    tcase_add_test(tc, test_reload_keeps);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_series);
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_add_test(tc, test_processes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    return s;
}
