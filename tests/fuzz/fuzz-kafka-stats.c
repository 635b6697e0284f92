/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-kafka-stats.c - librdkafka's statistics JSON, as the metrics and
 * the health check read it.
 *
 * Invariant: any bytes parse without a crash, undefined behaviour or a
 * read outside the input; on XF_OK at most XF_METRICS_BROKERS_MAX brokers
 * are reported, each name no longer than its buffer, and every broker's
 * "up" is 0 or 1.
 */

#include <stdint.h>
#include <stdlib.h>

#include "xf_metrics.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            i;
    xf_kafka_stats_t  st;

    if (xf_metrics_kafka_stats_parse(data, size, &st) != XF_OK) {
        return 0;
    }

    if (st.nbrokers > XF_METRICS_BROKERS_MAX) {
        FUZZ_FAIL("st.nbrokers > XF_METRICS_BROKERS_MAX");
    }

    for (i = 0; i < st.nbrokers; i++) {
        if (st.brokers[i].name_len > sizeof(st.brokers[i].name)
            || st.brokers[i].up > 1)
        {
            FUZZ_FAIL("st.brokers[i].name_len > sizeof(st.brokers[i].name) || "
                      "st.brokers[i].up > 1");
        }
    }

    return 0;
}
