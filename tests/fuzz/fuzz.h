/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - what the fuzz targets share: the selector byte that leads most
 * inputs, and spool record framing.  Header-only (static inline), since
 * each target is built alone (clang, libFuzzer) or with replay.c only.
 *
 * An input is one selector byte, then the payload; the selector's bits
 * are read as each target's comment says.  An empty input has neither:
 * the targets return at once.
 */

#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>


/*
 * A broken invariant: print where and what, then abort() so that
 * libFuzzer and the replay keep the input.  FUZZ_FAIL(what) after a test
 * that found the invariant broken (what: the test, as written, or what
 * went wrong); FUZZ_CHECK(cond, what) where cond must hold.
 */
#define FUZZ_FAIL(what)  fuzz_fail(__FILE__, __LINE__, what)

#define FUZZ_CHECK(cond, what)                                               \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fuzz_fail(__FILE__, __LINE__, what);                             \
        }                                                                    \
    } while (0)

__attribute__((noreturn)) static inline void
fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}


typedef struct {
    unsigned        sel;            /* the selector byte */
    const u_char   *p;              /* the payload after it */
    size_t          len;
} fuzz_input_t;


/* Split an input into its selector and payload; 0: empty, skip it. */
static inline int
fuzz_input(const uint8_t *data, size_t size, fuzz_input_t *in)
{
    if (size == 0) {
        return 0;
    }

    in->sel = data[0];
    in->p = data + 1;
    in->len = size - 1;

    return 1;
}


/* n bits of the selector from bit `shift` up. */
static inline unsigned
fuzz_bits(const fuzz_input_t *in, unsigned shift, unsigned n)
{
    return (in->sel >> shift) & ((1u << n) - 1);
}


/* The selector's bits from `shift` up as a share of len, in 2^nbits-ths. */
static inline size_t
fuzz_share(const fuzz_input_t *in, size_t len, unsigned shift)
{
    unsigned  n = 8 - shift;

    return len * fuzz_bits(in, shift, n) / ((size_t) 1 << n);
}


#ifdef XF_SPOOL_RECORD_H

static inline void
fuzz_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


/*
 * Write a record whose body is body[0..n-1] at out, with a header whose
 * length and CRCs are right (so that a fuzzer gets past the checksums);
 * returns its size, XF_SPOOL_RECORD_HEADER + n.
 */
static inline size_t
fuzz_frame_record(u_char *out, const u_char *body, size_t n)
{
    memcpy(out, XF_SPOOL_RECORD_MAGIC, 4);
    out[4] = XF_SPOOL_RECORD_VERSION;
    out[5] = 0;
    out[6] = 0;
    out[7] = 0;
    fuzz_put32(out + 8, (uint32_t) (XF_SPOOL_RECORD_HEADER + n));
    fuzz_put32(out + 12, xf_crc32c(0, body, n));
    fuzz_put32(out + 16, xf_crc32c(0, out, 16));
    memcpy(out + XF_SPOOL_RECORD_HEADER, body, n);

    return XF_SPOOL_RECORD_HEADER + n;
}

#endif /* XF_SPOOL_RECORD_H */

#endif /* FUZZ_H */
