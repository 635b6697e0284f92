/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-ledger.c - the ledger's slots: balanced deltas, claiming the
 * slots of dead processes (their in-flight events orphaned), a reload
 * keeping the counts, the text, and a reader that never sees a slot
 * halfway through a change while another process writes it.
 */

#include <check.h>
#include <signal.h>
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

    l = xf_ledger_init(*mem, xf_ledger_size(nslots), &fresh);
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
    xf_ledger_commit(l, a, &d);
    d = reported(6, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, &d);
    d = reported(4, XF_LEDGER_SPOOLED);
    xf_ledger_commit(l, a, &d);

    /* b replays what a spooled: its own slot gives what it never took */
    memset(&d, 0, sizeof(d));
    xf_ledger_move(&d, XF_LEDGER_SPOOLED, XF_LEDGER_DELIVERED, 4);
    xf_ledger_commit(l, b, &d);

    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_RECEIVED], 10);
    ck_assert_int_eq(sum.v[XF_LEDGER_DELIVERED], 10);
    ck_assert_int_eq(sum.v[XF_LEDGER_SPOOLED], 0);
    ck_assert_int_eq(sum.v[XF_LEDGER_SPOOL_ENTERED], 4);
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 0);
    ck_assert_int_eq(xf_ledger_unbalanced(&sum), 0);

    /* each slot balances on its own */
    ck_assert(xf_ledger_read(l, b, &d));
    ck_assert_int_eq(d.v[XF_LEDGER_SPOOLED], -4);
    ck_assert(xf_ledger_balanced(&d));

    /* out of range: nothing */
    xf_ledger_commit(l, 9, &d);
    xf_ledger_commit(l, -1, &d);
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
    xf_ledger_commit(l, a, &d);
    d = reported(2, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, &d);

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
    xf_ledger_commit(l, b, &d);
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
    xf_ledger_commit(l, a, &d);

    l = xf_ledger_init(mem, xf_ledger_size(8), &fresh);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(fresh, 0);
    ck_assert(xf_ledger_total(l, &sum));
    ck_assert_int_eq(sum.v[XF_LEDGER_IN_FLIGHT], 4);

    ck_assert_ptr_null(xf_ledger_init(mem, xf_ledger_size(1), NULL));

    free(mem);
}
END_TEST


START_TEST(test_render)
{
    void               *mem;
    int32_t             a;
    char               *text;
    xf_ledger_t        *l;
    xf_metrics_buf_t    out;
    xf_ledger_cells_t   d, sum;

    l = ledger(2, &mem);
    a = xf_ledger_claim(l, 400, alive, NULL);
    d = sent(12);
    xf_ledger_commit(l, a, &d);
    d = reported(5, XF_LEDGER_DELIVERED);
    xf_ledger_commit(l, a, &d);

    ck_assert(xf_ledger_total(l, &sum));
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(xf_ledger_render(&sum, &out, &xf_alloc_libc), XF_OK);

    text = strndup((char *) out.p, out.len);
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_events_total counter\n"
        "xflow_ledger_events_total{fate=\"delivered\"} 5\n"
        "xflow_ledger_events_total{fate=\"dead_lettered\"} 0\n"));
    /* spooled goes down: a gauge, never a counter's series */
    ck_assert_ptr_null(strstr(text, "fate=\"spooled\""));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_spooled_events gauge\n"
        "xflow_ledger_spooled_events 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_spool_entered_events_total counter\n"
        "xflow_ledger_spool_entered_events_total 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "xflow_ledger_events_total{fate=\"orphaned\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "\nxflow_ledger_received_events_total 12\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "\nxflow_ledger_in_flight_events 7\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE xflow_ledger_unbalanced_events gauge\n"
        "xflow_ledger_unbalanced_events 0\n"));
    ck_assert_int_eq(text[strlen(text) - 1], '\n');

    free(text);
    free(out.p);
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

    l = xf_ledger_init(mem, size, NULL);
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
                xf_ledger_commit(l, slot, &d);
                d = reported(1, XF_LEDGER_DELIVERED);
                xf_ledger_commit(l, slot, &d);
                d = reported(1, XF_LEDGER_SPOOLED);
                xf_ledger_commit(l, slot, &d);
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
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_add_test(tc, test_processes);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    return s;
}
