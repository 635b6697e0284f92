/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * devbroker.c - a Kafka broker for development: librdkafka's mock
 * cluster in a process of its own.
 *
 *   xflow-devbroker [--brokers N] [--topics a,b] [--partitions N]
 *                   [--bootstrap-file PATH] [--port PORT]
 *
 * Prints the bootstrap servers on stdout (and writes them to PATH), creates
 * the topics, and runs until SIGINT or SIGTERM.  It speaks the Kafka wire
 * protocol, so nginx with the module, kcat and any client can use it;
 * nothing is persisted.
 *
 * Only the topics of --topics exist, as on a production cluster with
 * auto.create.topics.enable=false: a route's topic typo must fail here as
 * it fails there.  librdkafka 2.0.2's mock cluster creates any topic a
 * client's metadata request names (it has no switch, and the producer's
 * allow.auto.create.topics does not stop it), so a watcher lists the
 * cluster's topics every 50 ms and refuses each one it was not given:
 * metadata answers UNKNOWN_TOPIC_OR_PART for it and its partitions lose
 * their leader, so nothing more is delivered to it, and a line on stderr
 * names it.  What a client produced in the few milliseconds before the
 * watcher saw the topic may still land there.
 *
 * The mock brokers listen on ephemeral loopback ports: librdkafka 2.0.2
 * has no way to choose them.  --port adds a fixed bootstrap address: a
 * plain TCP relay on 127.0.0.1:PORT to the first broker.  Clients only
 * bootstrap through it; the metadata they get back names the brokers'
 * own addresses, which they then connect to directly.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>


#define DEVBROKER_MAX_RELAYS  64


typedef struct {
    int  client;
    int  broker;
} devbroker_relay_t;


static void devbroker_usage(const char *name);
static void devbroker_signal(int signo);
static int devbroker_listen(int port);
static int devbroker_connect(const char *bootstraps);
static int devbroker_pump(int from, int to);
static void devbroker_serve(int lfd, const char *bootstraps);


static volatile sig_atomic_t  devbroker_stop;


/* What the watcher needs: the cluster, its client, the known topics. */
typedef struct {
    rd_kafka_mock_cluster_t  *mc;
    rd_kafka_t               *rk;
    char                    **topics;       /* given and refused */
    size_t                    n, cap;
} devbroker_watch_t;

static devbroker_watch_t  devbroker_watch;


static void
devbroker_usage(const char *name)
{
    fprintf(stderr,
            "usage: %s [--brokers N] [--topics a,b] [--partitions N]\n"
            "       [--bootstrap-file PATH] [--port PORT]\n", name);
}


static void
devbroker_signal(int signo)
{
    devbroker_stop = 1;
}


static int
devbroker_listen(int port)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || listen(fd, 64) == -1)
    {
        close(fd);
        return -1;
    }

    return fd;
}


/* Connect to the first "host:port" of the bootstrap list. */
static int
devbroker_connect(const char *bootstraps)
{
    int                 fd;
    char                host[64];
    const char         *colon;
    struct sockaddr_in  sin;

    colon = strchr(bootstraps, ':');
    if (colon == NULL || (size_t) (colon - bootstraps) >= sizeof(host)) {
        return -1;
    }

    memcpy(host, bootstraps, colon - bootstraps);
    host[colon - bootstraps] = '\0';

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(atoi(colon + 1));

    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        return -1;
    }

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        close(fd);
        return -1;
    }

    return fd;
}


/* Move what is readable on from to to; 0 when the pair should close. */
static int
devbroker_pump(int from, int to)
{
    char     buf[16384], *p;
    ssize_t  n, w;

    n = read(from, buf, sizeof(buf));
    if (n <= 0) {
        return 0;
    }

    /* Blocking writes: a Kafka request or response is small. */
    for (p = buf; n > 0; p += w, n -= w) {
        w = write(to, p, n);
        if (w <= 0) {
            return 0;
        }
    }

    return 1;
}


static int
devbroker_known(const char *topic)
{
    size_t  i;

    for (i = 0; i < devbroker_watch.n; i++) {
        if (strcmp(devbroker_watch.topics[i], topic) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
devbroker_remember(const char *topic)
{
    devbroker_watch_t  *w = &devbroker_watch;

    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->topics = realloc(w->topics, w->cap * sizeof(char *));

        if (w->topics == NULL) {
            fprintf(stderr, "xflow-devbroker: out of memory\n");
            exit(1);
        }
    }

    w->topics[w->n++] = strdup(topic);
}


/* Refuse every topic of the cluster it was not given (see the top). */
static void
devbroker_check_topics(void)
{
    int                             i, p;
    rd_kafka_resp_err_t             rc;
    const struct rd_kafka_metadata *md;
    devbroker_watch_t              *w = &devbroker_watch;

    if (w->rk == NULL) {
        return;
    }

    rc = rd_kafka_metadata(w->rk, 1, NULL, &md, 1000);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }

    for (i = 0; i < md->topic_cnt; i++) {
        if (devbroker_known(md->topics[i].topic)) {
            continue;
        }

        rd_kafka_mock_topic_set_error(w->mc, md->topics[i].topic,
                                   RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

        for (p = 0; p < md->topics[i].partition_cnt; p++) {
            (void) rd_kafka_mock_partition_set_leader(w->mc,
                                                      md->topics[i].topic,
                                                      p, -1);
        }

        fprintf(stderr, "xflow-devbroker: refused unknown topic \"%s\": "
                "only those of --topics exist, as on a cluster with "
                "auto.create.topics.enable=false\n", md->topics[i].topic);

        devbroker_remember(md->topics[i].topic);
    }

    rd_kafka_metadata_destroy(md);
}


static void
devbroker_serve(int lfd, const char *bootstraps)
{
    int                fd, b;
    size_t             i, k, n;
    struct pollfd      pfd[1 + 2 * DEVBROKER_MAX_RELAYS];
    devbroker_relay_t  relays[DEVBROKER_MAX_RELAYS];

    n = 0;

    while (!devbroker_stop) {
        pfd[0].fd = lfd;
        pfd[0].events = POLLIN;

        for (i = 0; i < n; i++) {
            pfd[1 + 2 * i].fd = relays[i].client;
            pfd[1 + 2 * i].events = POLLIN;
            pfd[2 + 2 * i].fd = relays[i].broker;
            pfd[2 + 2 * i].events = POLLIN;
        }

        devbroker_check_topics();

        if (poll(pfd, 1 + 2 * n, 50) <= 0) {
            continue;
        }

        for (i = 0, k = 0; i < n; i++) {
            if (((pfd[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))
                 && !devbroker_pump(relays[i].client, relays[i].broker))
                || ((pfd[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))
                    && !devbroker_pump(relays[i].broker, relays[i].client)))
            {
                close(relays[i].client);
                close(relays[i].broker);
                continue;
            }

            relays[k++] = relays[i];
        }

        n = k;

        if (!(pfd[0].revents & POLLIN)) {
            continue;
        }

        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            continue;
        }

        b = (n < DEVBROKER_MAX_RELAYS) ? devbroker_connect(bootstraps) : -1;
        if (b == -1) {
            close(fd);
            continue;
        }

        relays[n].client = fd;
        relays[n].broker = b;
        n++;
    }

    for (i = 0; i < n; i++) {
        close(relays[i].client);
        close(relays[i].broker);
    }
}


int
main(int argc, char **argv)
{
    int                       c, brokers, partitions, port, lfd;
    char                      err[512], *topics, *topic, *save;
    FILE                     *f;
    const char               *bootstraps, *file;
    rd_kafka_t               *rk;
    rd_kafka_conf_t          *conf;
    struct sigaction          sa;
    rd_kafka_resp_err_t       rc;
    rd_kafka_mock_cluster_t  *mc;

    static const struct option  opts[] = {
        { "brokers", required_argument, NULL, 'b' },
        { "topics", required_argument, NULL, 't' },
        { "partitions", required_argument, NULL, 'p' },
        { "bootstrap-file", required_argument, NULL, 'f' },
        { "port", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    brokers = 3;
    partitions = 3;
    port = 0;
    topics = "events";
    file = NULL;

    while ((c = getopt_long(argc, argv, "b:t:p:f:P:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = atoi(optarg);
            break;
        case 'p':
            partitions = atoi(optarg);
            break;
        case 't':
            topics = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'P':
            port = atoi(optarg);
            break;
        case 'h':
            devbroker_usage(argv[0]);
            return 0;
        default:
            devbroker_usage(argv[0]);
            return 2;
        }
    }

    if (brokers < 1 || partitions < 1 || port < 0 || port > 65535
        || optind != argc)
    {
        devbroker_usage(argv[0]);
        return 2;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = devbroker_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /*
     * The handle only owns the mock cluster's threads; it has no
     * bootstrap.servers of its own, which librdkafka would warn about.
     */
    conf = rd_kafka_conf_new();
    (void) rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "xflow-devbroker: %s\n", err);
        return 1;
    }

    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "xflow-devbroker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }

    topics = strdup(topics);
    for (topic = strtok_r(topics, ",", &save); topic != NULL;
         topic = strtok_r(NULL, ",", &save))
    {
        rc = rd_kafka_mock_topic_create(mc, topic, partitions, 1);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "xflow-devbroker: topic %s: %s\n", topic,
                    rd_kafka_err2str(rc));
        }

        devbroker_remember(topic);
    }
    free(topics);

    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);

    /* the watcher's own client: it only asks for metadata */
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
                          sizeof(err))
        != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err))
           != RD_KAFKA_CONF_OK)
    {
        fprintf(stderr, "xflow-devbroker: %s\n", err);
        return 1;
    }

    devbroker_watch.mc = mc;
    devbroker_watch.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
                                      sizeof(err));
    if (devbroker_watch.rk == NULL) {
        fprintf(stderr, "xflow-devbroker: %s\n", err);
        return 1;
    }

    lfd = -1;
    if (port > 0) {
        lfd = devbroker_listen(port);
        if (lfd == -1) {
            fprintf(stderr, "xflow-devbroker: 127.0.0.1:%d: %s\n", port,
                    strerror(errno));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }

    if (lfd != -1) {
        printf("127.0.0.1:%d,%s\n", port, bootstraps);

    } else {
        printf("%s\n", bootstraps);
    }

    fflush(stdout);

    if (file != NULL) {
        f = fopen(file, "w");
        if (f == NULL) {
            fprintf(stderr, "xflow-devbroker: %s: %s\n", file,
                    strerror(errno));

        } else {
            if (lfd != -1) {
                fprintf(f, "127.0.0.1:%d,", port);
            }

            fprintf(f, "%s\n", bootstraps);
            fclose(f);
        }
    }

    if (lfd != -1) {
        devbroker_serve(lfd, bootstraps);
        close(lfd);

    } else {
        /* Signals may land on librdkafka's threads: poll the flag. */
        while (!devbroker_stop) {
            devbroker_check_topics();
            (void) poll(NULL, 0, 50);
        }
    }

    rd_kafka_destroy(devbroker_watch.rk);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);

    return 0;
}
