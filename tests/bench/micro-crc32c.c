/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro-crc32c.c - CRC32C of one spool record's body (an envelope of the
 * bench's size), by the table path and by the dispatching xf_crc32c (the
 * SSE4.2 instruction when the CPU has it).  Not a test: prints ns per
 * record and runs a fixed number of iterations so that callgrind counts
 * are repeatable.
 *
 *   cc -O2 -g -Ingx_xflow_module/core tests/bench/micro-crc32c.c \
 *      ngx_xflow_module/core/xf_crc32c.c -o build/micro-crc32c
 *   build/micro-crc32c [sw|dispatch] [BYTES] [ITERATIONS]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xf_crc32c.h"


int
main(int argc, char **argv)
{
    size_t            i, len, iters;
    u_char           *buf;
    uint32_t          crc;
    struct timespec   t0, t1;
    uint32_t        (*fn)(uint32_t, const void *, size_t);

    fn = (argc > 1 && strcmp(argv[1], "sw") == 0) ? xf_crc32c_sw : xf_crc32c;
    len = argc > 2 ? strtoul(argv[2], NULL, 10) : 421;
    iters = argc > 3 ? strtoul(argv[3], NULL, 10) : 100000;

    buf = malloc(len + 1);
    if (buf == NULL) {
        return 1;
    }

    for (i = 0; i < len; i++) {
        buf[i] = (u_char) (i * 31 + 7);
    }

    crc = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < iters; i++) {
        crc = fn(crc, buf, len);
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("%s, %zu B: %.1f ns/record (hw %s, crc %08x)\n",
           fn == xf_crc32c_sw ? "sw" : "dispatch", len,
           ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
           / iters, xf_crc32c_hw_available() ? "yes" : "no", crc);

    free(buf);

    return 0;
}
