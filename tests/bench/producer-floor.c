/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * producer-floor.c - what librdkafka alone costs per message: a bare
 * producer that sends what xflow sends for a batch50gz request (50 keyed
 * messages of an envelope's size, rd_kafka_produce_batch without a copy,
 * delivery reports polled), to the same broker, with nothing else.  The
 * floor under xflow's per-event cost.  Not a test: prints CPU per message
 * (getrusage: every thread of the process, librdkafka's included) and,
 * under callgrind, gives instructions per message.
 *
 *   build/producer-floor BOOTSTRAP TOPIC [MESSAGES] [name=value ...]
 *
 * `make bench` builds it and run.sh runs it against the bench broker
 * with each profile's librdkafka settings.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <librdkafka/rdkafka.h>


#define FLOOR_BATCH     50
#define FLOOR_VALUE     420


static long  floor_done;


static void
floor_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        fprintf(stderr, "producer-floor: %s\n", rd_kafka_err2str(m->err));
        exit(1);
    }

    floor_done++;
}


static double
floor_cpu(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);

    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static double
floor_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


int
main(int argc, char **argv)
{
    int                  i, j, k, n, left;
    char                 errstr[512], *eq, keys[FLOOR_BATCH][24];
    long                 total, sent;
    double               c0, c1, t0, t1;
    rd_kafka_t          *rk;
    rd_kafka_conf_t     *conf;
    rd_kafka_topic_t    *rkt;
    static char          value[FLOOR_VALUE];
    rd_kafka_message_t   msgs[FLOOR_BATCH];

    if (argc < 3) {
        fprintf(stderr, "usage: producer-floor BOOTSTRAP TOPIC [MESSAGES] "
                "[name=value ...]\n");
        return 2;
    }

    total = argc > 3 ? atol(argv[3]) : 500000;

    conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "producer-floor: %s\n", errstr);
        return 1;
    }

    for (i = 4; i < argc; i++) {
        eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "producer-floor: %s is not name=value\n",
                    argv[i]);
            return 2;
        }

        *eq = '\0';

        if (rd_kafka_conf_set(conf, argv[i], eq + 1, errstr, sizeof(errstr))
            != RD_KAFKA_CONF_OK)
        {
            fprintf(stderr, "producer-floor: %s\n", errstr);
            return 1;
        }
    }

    rd_kafka_conf_set_dr_msg_cb(conf, floor_dr);

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "producer-floor: %s\n", errstr);
        return 1;
    }

    rkt = rd_kafka_topic_new(rk, argv[2], NULL);

    memset(value, 'x', sizeof(value));

    for (k = 0; k < FLOOR_BATCH; k++) {
        snprintf(keys[k], sizeof(keys[k]), "u-%016x", k * 2654435761u);
    }

    /* a first message and its report: metadata and connection are up */
    rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, value, sizeof(value),
                     keys[0], 18, NULL);
    rd_kafka_flush(rk, 10000);
    floor_done = 0;

    c0 = floor_cpu();
    t0 = floor_now();

    for (sent = 0; sent < total; sent += n) {
        n = total - sent < FLOOR_BATCH ? (int) (total - sent) : FLOOR_BATCH;

        memset(msgs, 0, sizeof(msgs));

        for (k = 0; k < n; k++) {
            msgs[k].payload = value;
            msgs[k].len = sizeof(value);
            msgs[k].key = keys[k];
            msgs[k].key_len = 18;
        }

        for (left = n; left > 0; /* void */) {
            if (rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, 0, msgs,
                                       left)
                == left)
            {
                break;
            }

            /* the queue is full: serve reports, retry what was refused */
            for (k = 0, j = 0; k < left; k++) {
                if (msgs[k].err) {
                    msgs[k].err = 0;
                    msgs[j++] = msgs[k];
                }
            }

            left = j;
            rd_kafka_poll(rk, 1);
        }

        rd_kafka_poll(rk, 0);
    }

    rd_kafka_flush(rk, 30000);

    c1 = floor_cpu();
    t1 = floor_now();

    printf("producer-floor: %ld messages of %d B in batches of %d: "
           "%.3f us CPU/message, %.0f messages/s, %ld reports\n",
           total, FLOOR_VALUE, FLOOR_BATCH, (c1 - c0) / total * 1e6,
           total / (t1 - t0), floor_done);

    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);

    return floor_done == total ? 0 : 1;
}
