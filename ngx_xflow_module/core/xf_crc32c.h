/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_crc32c.h - CRC32C, the checksum of spool records.
 */

#ifndef XF_CRC32C_H
#define XF_CRC32C_H

#include "xf_core.h"


/*
 * CRC32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of
 * iSCSI, ext4 and Kafka's own record batches.  Pass 0 to start and the
 * previous result to continue: xf_crc32c(xf_crc32c(0, a), b) is the CRC
 * of a followed by b.  xf_crc32c("123456789") is 0xe3069283.
 *
 * xf_crc32c uses the SSE4.2 crc32 instruction when the CPU has it (a
 * runtime check) and slicing-by-8 tables otherwise.  Both paths are
 * exported so tests can hold them to the same vectors; xf_crc32c_hw may
 * only be called when xf_crc32c_hw_available() returns 1.
 */
uint32_t xf_crc32c(uint32_t crc, const void *p, size_t len);
uint32_t xf_crc32c_sw(uint32_t crc, const void *p, size_t len);
uint32_t xf_crc32c_hw(uint32_t crc, const void *p, size_t len);
int xf_crc32c_hw_available(void);

#endif /* XF_CRC32C_H */
