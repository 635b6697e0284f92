/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-seen.c - the shared "seen within TTL" table: expiry on a simulated
 * clock, the capacity bound under a flood, reuse across a reload, and
 * several processes on one MAP_SHARED mapping.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_seen.h"


/* A well-mixed 64-bit key from a counter (splitmix64). */
static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}


static xf_seen_t *
table(uint32_t capacity, void **mem)
{
    xf_seen_t  *t;

    *mem = malloc(xf_seen_size(capacity));
    ck_assert_ptr_nonnull(*mem);
    memset(*mem, 0xa5, xf_seen_size(capacity));

    t = xf_seen_init(*mem, xf_seen_size(capacity));
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(xf_seen_capacity(t), capacity);

    return t;
}


START_TEST(test_first_then_again)
{
    void       *mem;
    xf_seen_t  *t;

    t = table(1024, &mem);

    ck_assert_int_eq(xf_seen_check_and_set(t, 42, 1000, 60), XF_SEEN_FIRST);
    ck_assert_int_eq(xf_seen_check_and_set(t, 42, 1000, 60), XF_SEEN_AGAIN);
    ck_assert_int_eq(xf_seen_check_and_set(t, 42, 1059, 60), XF_SEEN_AGAIN);
    ck_assert_int_eq(xf_seen_check_and_set(t, 43, 1000, 60), XF_SEEN_FIRST);

    /* a key whose fingerprint bits are zero works too */
    ck_assert_int_eq(xf_seen_check_and_set(t, 7, 1000, 60), XF_SEEN_FIRST);
    ck_assert_int_eq(xf_seen_check_and_set(t, 7, 1000, 60), XF_SEEN_AGAIN);

    free(mem);
}
END_TEST


START_TEST(test_ttl_expiry)
{
    void       *mem;
    uint64_t    now;
    xf_seen_t  *t;

    t = table(1024, &mem);
    now = 1732492800;

    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now, 3600),
                     XF_SEEN_FIRST);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now + 3599, 3600),
                     XF_SEEN_AGAIN);

    /* at now + ttl it is due again, once, and lives another ttl */
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now + 3600, 3600),
                     XF_SEEN_FIRST);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now + 3601, 3600),
                     XF_SEEN_AGAIN);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now + 7199, 3600),
                     XF_SEEN_AGAIN);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(1), now + 7200, 3600),
                     XF_SEEN_FIRST);

    /* ttl 0: always publish */
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(2), now, 0), XF_SEEN_FIRST);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(2), now, 0), XF_SEEN_FIRST);

    free(mem);
}
END_TEST


/*
 * Ten times more distinct keys than slots: every answer is a first, the
 * table does not grow, and the most recent keys are still remembered.
 */
START_TEST(test_capacity_bound)
{
    void       *mem;
    uint64_t    i, again, now;
    xf_seen_t  *t;

    t = table(1024, &mem);
    now = 1000;

    for (i = 0; i < 10240; i++) {
        ck_assert_int_eq(xf_seen_check_and_set(t, mix(i), now + i / 100, 600),
                         XF_SEEN_FIRST);
    }

    ck_assert_uint_eq(xf_seen_capacity(t), 1024);

    /* the last 256 keys: nearly all still there */
    again = 0;
    for (i = 10240 - 256; i < 10240; i++) {
        again += xf_seen_check_and_set(t, mix(i), now + 102, 600)
                 == XF_SEEN_AGAIN;
    }

    ck_assert_uint_gt(again, 240);

    free(mem);
}
END_TEST


/* Expired entries make room before live ones. */
START_TEST(test_expired_evicted_first)
{
    void       *mem;
    uint64_t    i;
    xf_seen_t  *t;

    t = table(16, &mem);

    /* fill all 16 slots: keys 0..15 land in homes 0..15 */
    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(xf_seen_check_and_set(t, (i + 1) << 32 | i, 100,
                                               i < 8 ? 10 : 1000),
                         XF_SEEN_FIRST);
    }

    /* at 200 the first eight are expired; a new key takes one of them */
    ck_assert_int_eq(xf_seen_check_and_set(t, 99ULL << 32 | 0, 200, 1000),
                     XF_SEEN_FIRST);

    for (i = 8; i < 16; i++) {
        ck_assert_int_eq(xf_seen_check_and_set(t, (i + 1) << 32 | i, 200,
                                               1000),
                         XF_SEEN_AGAIN);
    }

    ck_assert_int_eq(xf_seen_check_and_set(t, 99ULL << 32 | 0, 200, 1000),
                     XF_SEEN_AGAIN);

    free(mem);
}
END_TEST


START_TEST(test_reload_keeps_entries)
{
    void       *mem;
    size_t      size;
    xf_seen_t  *t;

    size = xf_seen_size(4096);
    t = table(4096, &mem);

    ck_assert_int_eq(xf_seen_check_and_set(t, mix(5), 100, 600),
                     XF_SEEN_FIRST);

    /* same size: the entries stay */
    t = xf_seen_init(mem, size);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(5), 101, 600),
                     XF_SEEN_AGAIN);

    /* smaller zone in the same memory: a fresh table */
    t = xf_seen_init(mem, xf_seen_size(2048));
    ck_assert_uint_eq(xf_seen_capacity(t), 2048);
    ck_assert_int_eq(xf_seen_check_and_set(t, mix(5), 102, 600),
                     XF_SEEN_FIRST);

    /* too small */
    ck_assert_ptr_null(xf_seen_init(mem, xf_seen_size(15)));

    /* sizes between powers of two round down */
    t = xf_seen_init(mem, xf_seen_size(3000));
    ck_assert_uint_eq(xf_seen_capacity(t), 2048);

    free(mem);
}
END_TEST


/*
 * Eight processes ask about the same 2000 keys at once on MAP_SHARED
 * memory: with room for all of them and no expiry, each key is a first
 * exactly once in total.
 */
START_TEST(test_processes)
{
    int         p, status;
    void       *mem;
    size_t      size;
    uint64_t    i, k, total, *firsts;
    pid_t       pids[8];
    xf_seen_t  *t;

    size = xf_seen_size(8192);
    mem = mmap(NULL, size + 8 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(mem != MAP_FAILED);

    t = xf_seen_init(mem, size);
    ck_assert_ptr_nonnull(t);
    firsts = (uint64_t *) ((u_char *) mem + size);

    for (p = 0; p < 8; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);

        if (pids[p] == 0) {
            k = 0;

            for (i = 0; i < 20000; i++) {
                /* each process walks the keys from its own start */
                k += xf_seen_check_and_set(t, mix((i + p * 250) % 2000), 100,
                                           600)
                     == XF_SEEN_FIRST;
            }

            firsts[p] = k;
            _exit(0);
        }
    }

    total = 0;

    for (p = 0; p < 8; p++) {
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        total += firsts[p];
    }

    ck_assert_uint_eq(total, 2000);

    /* and now every one is seen */
    for (i = 0; i < 2000; i++) {
        ck_assert_int_eq(xf_seen_check_and_set(t, mix(i), 101, 600),
                         XF_SEEN_AGAIN);
    }

    munmap(mem, size + 8 * sizeof(uint64_t));
}
END_TEST


/* Processes renewing one expired key: at least one of them publishes. */
START_TEST(test_processes_renew)
{
    int         p, status;
    void       *mem;
    size_t      size;
    uint64_t    total, *firsts;
    pid_t       pids[8];
    xf_seen_t  *t;

    size = xf_seen_size(1024);
    mem = mmap(NULL, size + 8 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(mem != MAP_FAILED);

    t = xf_seen_init(mem, size);
    firsts = (uint64_t *) ((u_char *) mem + size);

    ck_assert_int_eq(xf_seen_check_and_set(t, mix(9), 100, 60),
                     XF_SEEN_FIRST);

    for (p = 0; p < 8; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);

        if (pids[p] == 0) {
            firsts[p] = xf_seen_check_and_set(t, mix(9), 200, 60)
                        == XF_SEEN_FIRST;
            _exit(0);
        }
    }

    total = 0;

    for (p = 0; p < 8; p++) {
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert(WIFEXITED(status));
        total += firsts[p];
    }

    /* one CAS renews the entry; the others see it live */
    ck_assert_uint_eq(total, 1);

    munmap(mem, size + 8 * sizeof(uint64_t));
}
END_TEST


Suite *
make_seen_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("seen");

    tc = tcase_create("core");
    tcase_add_test(tc, test_first_then_again);
    tcase_add_test(tc, test_ttl_expiry);
    tcase_add_test(tc, test_reload_keeps_entries);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_capacity_bound);
    tcase_add_test(tc, test_expired_evicted_first);
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_add_test(tc, test_processes);
    tcase_add_test(tc, test_processes_renew);
    suite_add_tcase(s, tc);

    return s;
}
