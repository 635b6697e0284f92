/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_http.c - HTTP clients for the end-to-end suites: libcurl for
 * well-behaved requests, raw sockets for clients that abort, lie about
 * Content-Length or trickle bytes, and the compressors that make bodies.
 *
 * The e2e runner links only librdkafka, libcurl and check, so zlib and
 * libzstd (already mapped: librdkafka depends on both) are reached with
 * dlopen() instead of a link-time dependency.
 */

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>
#include <zstd.h>

#include "xf_test.h"


#define XF_HTTP_TIMEOUT   15000     /* ms, one whole request */


typedef struct {
    char    *p;
    size_t   len;
} xf_buf_t;

typedef struct {
    const char  *p;
    size_t       left;
} xf_reader_t;


static void xf_buf_add(xf_buf_t *b, const void *p, size_t len);
static size_t xf_http_write_cb(char *p, size_t size, size_t n, void *data);
static size_t xf_http_read_cb(char *p, size_t size, size_t n, void *data);
static void xf_http_global_init(void);
static int xf_raw_read_answer(int fd, char **body);


static pthread_once_t  xf_curl_once = PTHREAD_ONCE_INIT;


/* -------------------------------------------------------------- misc */

int64_t
xf_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
xf_sleep_ms(int ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long) (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        /* the rest of ts is left */
    }
}


const char *
xf_memstr(const char *haystack, size_t hlen, const char *needle)
{
    return memmem(haystack, hlen, needle, strlen(needle));
}


static void
xf_buf_add(xf_buf_t *b, const void *p, size_t len)
{
    b->p = realloc(b->p, b->len + len + 1);
    ck_assert_ptr_nonnull(b->p);

    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}


/* ----------------------------------------------------------- libcurl */

static void
xf_http_global_init(void)
{
    (void) curl_global_init(CURL_GLOBAL_DEFAULT);
}


static size_t
xf_http_write_cb(char *p, size_t size, size_t n, void *data)
{
    xf_buf_add(data, p, size * n);

    return size * n;
}


static size_t
xf_http_read_cb(char *p, size_t size, size_t n, void *data)
{
    size_t        len;
    xf_reader_t  *r = data;

    /* Small pieces, so a chunked body really is several chunks. */
    len = xf_tmin(xf_tmin(size * n, r->left), (size_t) 1024);

    memcpy(p, r->p, len);
    r->p += len;
    r->left -= len;

    return len;
}


long
xf_http_request(const char *method, const char *url,
    const char *const *headers, const void *body, size_t len,
    xf_http_resp_t *resp)
{
    int                  chunked;
    CURL                *h;
    CURLcode             rc;
    xf_buf_t             rbody, rhdrs;
    xf_reader_t          reader;
    struct curl_slist   *list;
    const char *const   *hp;

    pthread_once(&xf_curl_once, xf_http_global_init);

    memset(resp, 0, sizeof(xf_http_resp_t));
    memset(&rbody, 0, sizeof(rbody));
    memset(&rhdrs, 0, sizeof(rhdrs));
    xf_buf_add(&rbody, "", 0);
    xf_buf_add(&rhdrs, "", 0);

    h = curl_easy_init();
    ck_assert_ptr_nonnull(h);

    chunked = 0;
    list = curl_slist_append(NULL, "Expect:");

    for (hp = headers; hp != NULL && *hp != NULL; hp++) {
        if (strcasecmp(*hp, "Transfer-Encoding: chunked") == 0) {
            chunked = 1;
        }

        list = curl_slist_append(list, *hp);
    }

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) XF_HTTP_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, xf_http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &rbody);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, xf_http_write_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &rhdrs);
    /* Bodies are compared byte for byte: no transparent decoding. */
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);

    if (chunked) {
        reader.p = body;
        reader.left = len;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, xf_http_read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &reader);

    } else if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    }

    /* After the body options: POSTFIELDS would switch the method back. */
    if (strcmp(method, "GET") == 0 && body == NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);

    } else if (strcmp(method, "POST") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }

    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);

    } else {
        fprintf(stderr, "%s %s: %s\n", method, url, curl_easy_strerror(rc));
    }

    curl_easy_cleanup(h);
    curl_slist_free_all(list);

    resp->body = rbody.p;
    resp->body_len = rbody.len;
    resp->headers = rhdrs.p;
    resp->headers_len = rhdrs.len;

    return resp->status;
}


char *
xf_http_header(const xf_http_resp_t *resp, const char *name)
{
    char        *v;
    size_t       nlen;
    const char  *p, *end, *eol;

    nlen = strlen(name);
    p = resp->headers;
    end = resp->headers + resp->headers_len;

    while (p < end) {
        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        if ((size_t) (eol - p) > nlen && p[nlen] == ':'
            && strncasecmp(p, name, nlen) == 0)
        {
            p += nlen + 1;
            while (p < eol && (*p == ' ' || *p == '\t')) {
                p++;
            }

            while (eol > p && (eol[-1] == '\r' || eol[-1] == '\n')) {
                eol--;
            }

            v = strndup(p, eol - p);
            ck_assert_ptr_nonnull(v);

            return v;
        }

        p = eol + 1;
    }

    return NULL;
}


void
xf_http_resp_free(xf_http_resp_t *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(xf_http_resp_t));
}


/* ------------------------------------------------------- raw sockets */

/*
 * A TCP connection to 127.0.0.1:port, from the source address
 * 127.0.0.<host> when host is not 0 (binding it must work); -1 with
 * errno when the connect fails.
 */
static int
xf_connect_loopback_from(int port, int host)
{
    int                 fd, err;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;

    if (host != 0) {
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + host);

        ck_assert_msg(bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0,
                      "bind 127.0.0.%d: %s", host, strerror(errno));
    }

    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }

    return fd;
}


/* Each write of a raw connection is meant to leave as its own segment. */
static int
xf_raw_nodelay(int fd)
{
    int  one;

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    return fd;
}


int
xf_connect_loopback(int port)
{
    return xf_connect_loopback_from(port, 0);
}


int
xf_raw_connect(int port)
{
    int  fd;

    fd = xf_connect_loopback(port);
    ck_assert_msg(fd >= 0, "connect 127.0.0.1:%d: %s", port,
                  strerror(errno));

    return xf_raw_nodelay(fd);
}


int
xf_raw_connect_from(int port, int host)
{
    int  fd;

    fd = xf_connect_loopback_from(port, host);
    ck_assert_msg(fd >= 0, "connect 127.0.0.1:%d from 127.0.0.%d: %s",
                  port, host, strerror(errno));

    return xf_raw_nodelay(fd);
}


void
xf_raw_write_all(int fd, const void *p, size_t len)
{
    ssize_t      n;
    const char  *s = p;

    while (len > 0) {
        n = send(fd, s, len, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        s += n;
        len -= n;
    }
}


void
xf_raw_answer(int fd, int wait_close, xf_raw_resp_t *resp)
{
    int             want_close;
    char            buf[8192], *b;
    long            clen;
    size_t          blen, hlen;
    ssize_t         n;
    int64_t         deadline, left;
    const char     *hend, *cl;
    struct pollfd   pfd;

    memset(resp, 0, sizeof(xf_raw_resp_t));

    b = malloc(1);
    ck_assert_ptr_nonnull(b);
    b[0] = '\0';
    blen = 0;

    deadline = xf_now_ms() + XF_HTTP_TIMEOUT;

    for ( ;; ) {
        hend = strstr(b, "\r\n\r\n");

        if (hend != NULL) {
            hlen = hend + 4 - b;
            cl = strcasestr(b, "\r\nContent-Length:");
            clen = (cl != NULL && cl < hend) ? strtol(cl + 17, NULL, 10) : -1;
            want_close = wait_close == 1
                         || (wait_close == 0
                             && strcasestr(b, "\r\nConnection: close")
                                != NULL);

            if (clen >= 0 && blen >= hlen + clen && !want_close) {
                break;
            }
        }

        left = deadline - xf_now_ms();
        if (left <= 0) {
            break;
        }

        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, (int) left) <= 0) {
            continue;
        }

        n = recv(fd, buf, sizeof(buf), 0);
        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            resp->closed = 1;
            break;
        }

        b = realloc(b, blen + n + 1);
        ck_assert_ptr_nonnull(b);
        memcpy(b + blen, buf, n);
        blen += n;
        b[blen] = '\0';
    }

    hend = strstr(b, "\r\n\r\n");

    if (hend != NULL && blen > 12 && strncmp(b, "HTTP/1.", 7) == 0) {
        hlen = hend + 4 - b;
        resp->status = strtol(b + 9, NULL, 10);
        resp->headers = strndup(b, hlen);
        resp->body = strndup(b + hlen, blen - hlen);
        resp->body_len = blen - hlen;

    } else {
        resp->headers = strdup("");
        resp->body = strdup("");
    }

    ck_assert_ptr_nonnull(resp->headers);
    ck_assert_ptr_nonnull(resp->body);

    free(b);
}


void
xf_raw_resp_free(xf_raw_resp_t *resp)
{
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof(xf_raw_resp_t));
}


/*
 * Read until the peer closes or a whole answer (headers plus
 * Content-Length bytes) arrived; returns the status, 0 if none came.
 */
static int
xf_raw_read_answer(int fd, char **body)
{
    int             status;
    xf_raw_resp_t   resp;

    xf_raw_answer(fd, -1, &resp);
    status = (int) resp.status;

    if (body != NULL) {
        *body = resp.body;
        resp.body = NULL;
    }

    xf_raw_resp_free(&resp);

    return status;
}


char *
xf_raw_build(const char *method, const char *path,
    const char *const *headers, const void *body, size_t len,
    long content_length, size_t *out_len)
{
    char               line[256];
    xf_buf_t           b;
    const char *const  *hp;

    memset(&b, 0, sizeof(b));

    snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\nHost: localhost\r\n",
             method, path);
    xf_buf_add(&b, line, strlen(line));

    for (hp = headers; hp != NULL && *hp != NULL; hp++) {
        xf_buf_add(&b, *hp, strlen(*hp));
        xf_buf_add(&b, "\r\n", 2);
    }

    snprintf(line, sizeof(line), "Content-Length: %ld\r\n\r\n",
             content_length >= 0 ? content_length : (long) len);
    xf_buf_add(&b, line, strlen(line));

    if (len > 0) {
        xf_buf_add(&b, body, len);
    }

    *out_len = b.len;

    return b.p;
}


void
xf_raw_abort_mid_request(int port, const char *path)
{
    int            fd;
    char          *req, *body;
    size_t         len;
    struct linger  lg;

    body = malloc(5000);
    ck_assert_ptr_nonnull(body);

    /* The first half of a JSON array of small objects, cut anywhere. */
    memset(body, ' ', 5000);
    body[0] = '[';
    memcpy(body + 1, "{\"event\":\"aborted\"},", 20);

    req = xf_raw_build("POST", path, NULL, body, 5000, 10000, &len);

    fd = xf_raw_connect(port);
    xf_raw_write_all(fd, req, len);

    /* Give nginx the chance to start reading before the reset. */
    xf_sleep_ms(50);

    lg.l_onoff = 1;
    lg.l_linger = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);

    free(req);
    free(body);
}


int
xf_raw_short_body(int port, const char *path, const void *body, size_t len)
{
    int      fd, status;
    char    *req;
    size_t   rlen;

    req = xf_raw_build("POST", path, NULL, body, len, (long) len * 2, &rlen);

    fd = xf_raw_connect(port);
    xf_raw_write_all(fd, req, rlen);
    (void) shutdown(fd, SHUT_WR);

    status = xf_raw_read_answer(fd, NULL);

    close(fd);
    free(req);

    return status;
}


void
xf_raw_send_close(int port, const void *req, size_t len)
{
    int  fd;

    fd = xf_raw_connect(port);
    xf_raw_write_all(fd, req, len);
    close(fd);
}


int
xf_raw_slow_request(int port, const void *req, size_t len, size_t chunk,
    int delay_ms, char **body)
{
    int          fd, status;
    size_t       n;
    const char  *p = req;

    fd = xf_raw_connect(port);

    while (len > 0) {
        n = xf_tmin(chunk, len);
        xf_raw_write_all(fd, p, n);
        p += n;
        len -= n;

        if (len > 0) {
            xf_sleep_ms(delay_ms);
        }
    }

    status = xf_raw_read_answer(fd, body);
    close(fd);

    return status;
}


/* ------------------------------------------------------- compression */

void *
xf_dlsym(const char *lib, const char *sym)
{
    void  *h, *f;

    h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
    ck_assert_msg(h != NULL, "dlopen %s: %s", lib, dlerror());

    f = dlsym(h, sym);
    ck_assert_msg(f != NULL, "dlsym %s: %s", sym, dlerror());

    /* The handle stays open: the library is mapped for the process. */
    return f;
}


u_char *
xf_gzip_streamed_bomb(size_t n, size_t *out_len)
{
    size_t     i, l1, l2;
    u_char    *bytes, *m1, *m2, *out;
    uint32_t   s = 2463534242u;

    ck_assert_uint_ge(n, 64 * 1024);

    bytes = malloc(n);
    ck_assert_ptr_nonnull(bytes);

    /* xorshift: nothing for deflate to find */
    for (i = 0; i < 64 * 1024; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        bytes[i] = (u_char) s;
    }

    memset(bytes + 64 * 1024, ' ', n - 64 * 1024);

    m1 = xf_compress(XF_TEST_GZIP, bytes, 64 * 1024, &l1);
    m2 = xf_compress(XF_TEST_GZIP, bytes + 64 * 1024, n - 64 * 1024, &l2);
    free(bytes);

    out = malloc(l1 + l2);
    ck_assert_ptr_nonnull(out);
    memcpy(out, m1, l1);
    memcpy(out + l1, m2, l2);
    free(m1);
    free(m2);

    ck_assert_uint_gt(l1 + l2, 64 * 1024);
    *out_len = l1 + l2;

    return out;
}


void *
xf_compress(xf_test_codec_t codec, const void *p, size_t len,
    size_t *out_len)
{
    int         rc, wbits;
    size_t      cap, zn;
    z_stream    z;
    u_char     *out;

    int        (*init2)(z_streamp, int, int, int, int, int, const char *,
                        int);
    int        (*deflate_fn)(z_streamp, int);
    int        (*end)(z_streamp);
    size_t     (*zbound)(size_t);
    size_t     (*zcompress)(void *, size_t, const void *, size_t, int);
    unsigned   (*zerr)(size_t);
    int        (*brcompress)(int, int, int, size_t, const uint8_t *,
                             size_t *, uint8_t *);

    if (codec == XF_TEST_BR) {
        brcompress = xf_dlsym("libbrotlienc.so.1", "BrotliEncoderCompress");

        /* brotli's worst case is a few bytes per 64 KiB, plus a header */
        cap = len + len / 1000 + 1024;
        out = malloc(cap);
        ck_assert_ptr_nonnull(out);

        /* quality 5, window 24, generic mode */
        zn = cap;
        ck_assert_msg(brcompress(5, 24, 0, len, p, &zn, out),
                      "BrotliEncoderCompress failed");

        *out_len = zn;
        return out;
    }

    if (codec == XF_TEST_ZSTD) {
        zbound = xf_dlsym("libzstd.so.1", "ZSTD_compressBound");
        zcompress = xf_dlsym("libzstd.so.1", "ZSTD_compress");
        zerr = xf_dlsym("libzstd.so.1", "ZSTD_isError");

        cap = zbound(len);
        out = malloc(cap);
        ck_assert_ptr_nonnull(out);

        zn = zcompress(out, cap, p, len, 19);
        ck_assert_msg(!zerr(zn), "ZSTD_compress failed");

        *out_len = zn;
        return out;
    }

    init2 = xf_dlsym("libz.so.1", "deflateInit2_");
    deflate_fn = xf_dlsym("libz.so.1", "deflate");
    end = xf_dlsym("libz.so.1", "deflateEnd");

    switch (codec) {
    case XF_TEST_GZIP:
        wbits = 15 + 16;
        break;
    case XF_TEST_RAW_DEFLATE:
        wbits = -15;
        break;
    default: /* XF_TEST_ZLIB */
        wbits = 15;
        break;
    }

    memset(&z, 0, sizeof(z));
    rc = init2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY,
               ZLIB_VERSION, (int) sizeof(z_stream));
    ck_assert_int_eq(rc, Z_OK);

    /* Deflate's worst case is a few bytes per 16 KiB stored block. */
    cap = len + len / 1000 + 1024;
    out = malloc(cap);
    ck_assert_ptr_nonnull(out);

    z.next_in = (Bytef *) p;
    z.next_out = out;
    z.avail_out = (uInt) cap;

    /* avail_in is 32 bits: feed in slices so huge bombs work too. */
    do {
        z.avail_in = (uInt) xf_tmin(len - (size_t) z.total_in,
                                    (size_t) 1 << 30);
        rc = deflate_fn(&z, (size_t) z.total_in + z.avail_in == len
                            ? Z_FINISH : Z_NO_FLUSH);
        ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "deflate: %d", rc);
    } while (rc != Z_STREAM_END);

    *out_len = z.total_out;
    (void) end(&z);

    return out;
}
