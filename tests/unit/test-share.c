/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-share.c - rate_limit/xrl_share.c: bytes held per key, the limit,
 * giving back, keys kept apart, reuse across a reload, and processes
 * charging one shared mapping at once.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "xrl.h"
#include "xrl_share.h"


#define WIDTH  4096


static xrl_share_t *
share_new(void **mem)
{
    *mem = calloc(1, xrl_share_size(WIDTH));
    ck_assert_ptr_nonnull(*mem);

    return xrl_share_init(*mem, WIDTH, 1, 2);
}


START_TEST(test_share_limit)
{
    void         *mem;
    xrl_share_t  *s;

    s = share_new(&mem);
    ck_assert_uint_eq(s->width, WIDTH);

    ck_assert_int_eq(xrl_share_charge(s, "a", 1, 600, 1000), 0);
    ck_assert_int_eq(xrl_share_charge(s, "a", 1, 400, 1000), 0);
    ck_assert_uint_eq(xrl_share_held(s, "a", 1), 1000);

    /* one more byte is over; the refusal charges nothing */
    ck_assert_int_eq(xrl_share_charge(s, "a", 1, 1, 1000), -1);
    ck_assert_uint_eq(xrl_share_held(s, "a", 1), 1000);

    /* another key has its own share */
    ck_assert_int_eq(xrl_share_charge(s, "b", 1, 1000, 1000), 0);

    xrl_share_release(s, "a", 1, 600);
    ck_assert_uint_eq(xrl_share_held(s, "a", 1), 400);
    ck_assert_int_eq(xrl_share_charge(s, "a", 1, 600, 1000), 0);

    /* max 0: no limit */
    ck_assert_int_eq(xrl_share_charge(s, "c", 1, UINT64_C(1) << 40, 0), 0);

    free(mem);
}
END_TEST


/*
 * Many keys each holding their whole share: a key that never charged is
 * still free to take its own (both rows collide only by chance).
 */
START_TEST(test_share_apart)
{
    void         *mem;
    uint32_t      i, refused;
    xrl_share_t  *s;

    s = share_new(&mem);

    /* 300 keys in 4096 x 2 counters: a key meets others in both of its
     * counters about once in 180 (and the hash key is fixed here) */
    refused = 0;
    for (i = 0; i < 300; i++) {
        refused += xrl_share_charge(s, &i, sizeof(i), 100, 100) != 0;
    }

    ck_assert_uint_le(refused, 4);

    refused = 0;
    for (i = 1000; i < 2000; i++) {
        if (xrl_share_charge(s, &i, sizeof(i), 100, 100) != 0) {
            refused++;
            continue;
        }

        xrl_share_release(s, &i, sizeof(i), 100);
    }

    ck_assert_uint_le(refused, 16);

    free(mem);
}
END_TEST


/* Laid out again with the same width (a reload), the counts stay. */
START_TEST(test_share_reuse)
{
    void         *mem;
    xrl_share_t  *s;

    s = share_new(&mem);
    ck_assert_int_eq(xrl_share_charge(s, "a", 1, 7, 0), 0);

    s = xrl_share_init(mem, WIDTH, 3, 4);
    ck_assert_uint_eq(s->k0, 1);
    ck_assert_uint_eq(xrl_share_held(s, "a", 1), 7);

    s = xrl_share_init(mem, WIDTH / 2, 3, 4);
    ck_assert_uint_eq(s->width, WIDTH / 2);
    ck_assert_uint_eq(xrl_share_held(s, "a", 1), 0);

    free(mem);
}
END_TEST


/* Four processes charging and giving back one key: nothing is lost. */
START_TEST(test_share_processes)
{
    int           i, j, status;
    void         *mem;
    pid_t         pid[4];
    xrl_share_t  *s;

    mem = mmap(NULL, xrl_share_size(WIDTH), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);
    s = xrl_share_init(mem, WIDTH, 5, 6);

    for (i = 0; i < 4; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);

        if (pid[i] == 0) {
            for (j = 0; j < 100000; j++) {
                if (xrl_share_charge(s, "k", 1, 3, 12) == 0) {
                    xrl_share_release(s, "k", 1, 3);
                }
            }

            (void) xrl_share_charge(s, "k", 1, 1, 0);
            _exit(0);
        }
    }

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    ck_assert_uint_eq(xrl_share_held(s, "k", 1), 4);

    munmap(mem, xrl_share_size(WIDTH));
}
END_TEST


Suite *
make_share_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("share");

    tc = tcase_create("share");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_share_limit);
    tcase_add_test(tc, test_share_apart);
    tcase_add_test(tc, test_share_reuse);
    tcase_add_test(tc, test_share_processes);
    suite_add_tcase(s, tc);

    return s;
}
