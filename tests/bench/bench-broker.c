/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench-broker.c - the Kafka side of `make bench`.
 *
 *   bench-broker serve --topics a,b [--partitions N] [--bootstrap-file PATH]
 *       Runs a librdkafka mock cluster (one broker, real wire protocol on
 *       loopback), creates the topics, prints the bootstrap address (and
 *       writes it to PATH), and serves until SIGINT or SIGTERM.  The mock
 *       keeps a bounded log per partition (old message sets are dropped),
 *       so memory stays flat however long the bench runs; the high
 *       watermark still counts every message ever appended.
 *
 *   bench-broker count --bootstrap ADDR --topics a,b [--settle MS]
 *       Prints, per topic, the sum over partitions of the high watermark:
 *       the number of messages that arrived.  With --settle, queries again
 *       every 200 ms until the sum has not moved for MS milliseconds (at
 *       most 15 s), so messages still in a producer's queue are counted.
 *
 * Counting asks the broker (ListOffsets), not a producer: it is what
 * actually arrived, whatever the producer believes.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>


#define BB_TIMEOUT        5000      /* ms, metadata and watermark queries */
#define BB_SETTLE_STEP    200       /* ms */
#define BB_SETTLE_MAX     15000     /* ms */
#define BB_MAX_TOPICS     32


static volatile sig_atomic_t  bb_stop;


static void
bb_usage(void)
{
    fprintf(stderr,
            "usage: bench-broker serve --topics a,b [--partitions N] "
            "[--bootstrap-file PATH]\n"
            "       bench-broker count --bootstrap ADDR --topics a,b "
            "[--settle MS]\n");
    exit(2);
}


static void
bb_on_signal(int signo)
{
    bb_stop = 1;
}


static void
bb_quiet_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    /* errors only: connection chatter from nginx workers coming and going */
    if (level <= 3) {
        fprintf(stderr, "bench-broker: %s: %s\n", fac, buf);
    }
}


static int
bb_split(char *list, char **out, int max)
{
    int    n;
    char  *tok, *save;

    n = 0;
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save))
    {
        if (n == max) {
            fprintf(stderr, "bench-broker: more than %d topics\n", max);
            exit(2);
        }
        out[n++] = tok;
    }

    return n;
}


static long long
bb_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
bb_serve(char **topics, int ntopics, int partitions, const char *file)
{
    int                       i;
    char                      err[512];
    FILE                     *f;
    rd_kafka_t               *rk;
    rd_kafka_conf_t          *conf;
    rd_kafka_resp_err_t       rc;
    rd_kafka_mock_cluster_t  *mc;

    /* the mock cluster needs a handle to own its thread */
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, bb_quiet_log);

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "bench-broker: rd_kafka_new: %s\n", err);
        return 1;
    }

    mc = rd_kafka_mock_cluster_new(rk, 1);
    if (mc == NULL) {
        fprintf(stderr, "bench-broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }

    for (i = 0; i < ntopics; i++) {
        rc = rd_kafka_mock_topic_create(mc, topics[i], partitions, 1);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "bench-broker: topic %s: %s\n", topics[i],
                    rd_kafka_err2str(rc));
            return 1;
        }
    }

    if (file != NULL) {
        f = fopen(file, "w");
        if (f == NULL
            || fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0
            || fclose(f) != 0)
        {
            fprintf(stderr, "bench-broker: %s: %s\n", file, strerror(errno));
            return 1;
        }
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    while (!bb_stop) {
        pause();
    }

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);

    return 0;
}


/* The sum of high watermarks of a topic, or -1 on error. */
static long long
bb_topic_count(rd_kafka_t *rk, const char *topic)
{
    int                            p;
    int64_t                        lo, hi;
    long long                      sum;
    rd_kafka_topic_t              *rkt;
    rd_kafka_resp_err_t            rc;
    const rd_kafka_metadata_t     *md;

    rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        return -1;
    }

    rc = rd_kafka_metadata(rk, 0, rkt, &md, BB_TIMEOUT);
    rd_kafka_topic_destroy(rkt);

    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench-broker: metadata %s: %s\n", topic,
                rd_kafka_err2str(rc));
        return -1;
    }

    if (md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "bench-broker: no topic %s\n", topic);
        rd_kafka_metadata_destroy(md);
        return -1;
    }

    sum = 0;
    for (p = 0; p < md->topics[0].partition_cnt; p++) {
        rc = rd_kafka_query_watermark_offsets(rk, topic,
                                              md->topics[0].partitions[p].id,
                                              &lo, &hi, BB_TIMEOUT);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "bench-broker: watermarks %s [%d]: %s\n", topic,
                    (int) p, rd_kafka_err2str(rc));
            rd_kafka_metadata_destroy(md);
            return -1;
        }
        sum += hi;
    }

    rd_kafka_metadata_destroy(md);

    return sum;
}


static int
bb_count(const char *bootstrap, char **topics, int ntopics, int settle)
{
    int               i, changed;
    char              err[512];
    long long         sums[BB_MAX_TOPICS], n, start, still;
    rd_kafka_t       *rk;
    rd_kafka_conf_t  *conf;

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, bb_quiet_log);

    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
                          sizeof(err)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "group.id", "bench-count", err,
                             sizeof(err)) != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "bench-broker: %s\n", err);
        return 1;
    }

    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "bench-broker: rd_kafka_new: %s\n", err);
        return 1;
    }

    start = bb_now_ms();
    still = start;

    for (i = 0; i < ntopics; i++) {
        sums[i] = -2;
    }

    for ( ;; ) {
        changed = 0;

        for (i = 0; i < ntopics; i++) {
            n = bb_topic_count(rk, topics[i]);
            if (n < 0) {
                rd_kafka_destroy(rk);
                return 1;
            }
            if (n != sums[i]) {
                changed = 1;
                sums[i] = n;
            }
        }

        if (changed) {
            still = bb_now_ms();
        }

        if (bb_now_ms() - still >= settle
            || bb_now_ms() - start >= BB_SETTLE_MAX)
        {
            break;
        }

        usleep(BB_SETTLE_STEP * 1000);
    }

    for (i = 0; i < ntopics; i++) {
        printf("%s %lld\n", topics[i], sums[i]);
    }

    rd_kafka_destroy(rk);

    return 0;
}


int
main(int argc, char **argv)
{
    int               i, ntopics, partitions, settle;
    char             *topics[BB_MAX_TOPICS];
    const char       *file, *bootstrap;
    struct sigaction  sa;

    if (argc < 2) {
        bb_usage();
    }

    ntopics = 0;
    partitions = 4;
    settle = 0;
    file = NULL;
    bootstrap = NULL;

    for (i = 2; i < argc; i++) {
        if (i + 1 == argc) {
            bb_usage();
        }

        if (strcmp(argv[i], "--topics") == 0) {
            ntopics = bb_split(argv[++i], topics, BB_MAX_TOPICS);

        } else if (strcmp(argv[i], "--partitions") == 0) {
            partitions = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--bootstrap-file") == 0) {
            file = argv[++i];

        } else if (strcmp(argv[i], "--bootstrap") == 0) {
            bootstrap = argv[++i];

        } else if (strcmp(argv[i], "--settle") == 0) {
            settle = atoi(argv[++i]);

        } else {
            bb_usage();
        }
    }

    if (ntopics == 0 || partitions < 1) {
        bb_usage();
    }

    if (strcmp(argv[1], "serve") == 0) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = bb_on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        return bb_serve(topics, ntopics, partitions, file);
    }

    if (strcmp(argv[1], "count") == 0 && bootstrap != NULL) {
        return bb_count(bootstrap, topics, ntopics, settle);
    }

    bb_usage();

    return 2;
}
