/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_nginx.c - run a real nginx master with the xflow module from a
 * config snippet, in a temporary prefix directory.
 *
 * Layout of a prefix (/tmp/xf-nginx-XXXXXX, mode 0755 so that workers
 * running as nobody can traverse it):
 *
 *   nginx.conf     the frame below around the caller's http snippet
 *   error.log      error_log, level info
 *   access.log
 *   stderr.log     nginx's stdout and stderr
 *   test.log       error log of `nginx -t` runs (keeps error.log clean)
 *   body/          client_body_temp_path, created and chowned by nginx
 *   asan/          sanitizer reports (XFLOW_ASAN=1), mode 0777
 *
 * nginx stays in the test's process group: when a test fails or times
 * out, check kills the whole group, nginx included.
 *
 * Sanitizers (XFLOW_ASAN=1).  The ASan nginx gets
 *
 *   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0:
 *                log_path=<prefix>/asan/asan
 *   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:
 *                 log_path=<prefix>/asan/ubsan
 *   LD_PRELOAD=<libasan> <librdkafka>    (paths found with ldd)
 *
 * What leak checking needs, as found with nginx 1.22.1:
 *   - A master that starts, serves, reloads and quits leaks nothing that
 *     LeakSanitizer reports; nor do its workers, with one exception:
 *   - at exit a worker destroys the cycle pool, whose cleanup dlclose()s
 *     the module, which unloads librdkafka; librdkafka's process-wide
 *     state (allocated once, reachable only from its own data segment)
 *     then looks leaked, as "<unknown module>" frames.  Preloading
 *     librdkafka keeps it mapped, and the report clean.  libasan must stay
 *     first in the library list, hence its place in LD_PRELOAD.
 *   - `nginx -t` on a config that fails leaks the init cycle's pool
 *     (src/core/nginx.c, ngx_create_pool in main): nginx -t runs get
 *     detect_leaks=0.
 * Without both paths from ldd, leaks are not checked at all
 * (detect_leaks=0).  Reports go to files because the workers' stderr is
 * the master's; log_path's directory is writable by nobody.
 * XFLOW_ASAN_OPTIONS / XFLOW_UBSAN_OPTIONS replace the defaults above
 * (log_path is still appended).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_test.h"


#define XF_NGINX_START_TIMEOUT   30000   /* ms */
#define XF_NGINX_RELOAD_TIMEOUT  10000   /* ms */
#define XF_NGINX_MAX_WORKERS     64
#define XF_NGINX_MAX_KILLED      16


extern char  **environ;

static pid_t   xf_nginx_killed[XF_NGINX_MAX_KILLED];
static size_t  xf_nginx_nkilled;


static char *xf_nginx_replace(const char *s, const char *from,
    const char *to);
static const char *xf_nginx_bin(void);
static int xf_nginx_ldd(const char *file, const char *lib, char *path,
    size_t size);
static char **xf_nginx_env(xf_nginx_t *n, int leaks);
static void xf_nginx_env_free(char **env);
static pid_t xf_nginx_spawn(xf_nginx_t *n, char *const argv[], int out_fd,
    int leaks);
static int xf_nginx_port_open(int port);
static int xf_nginx_scan(const char *path, const char *text, int worker_kill);
static int xf_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw);


/* A loopback port free now (another listener of a test's nginx). */
int
xf_test_free_port(void)
{
    int                 fd, port;
    socklen_t           len;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);

    len = sizeof(sin);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    port = ntohs(sin.sin_port);

    close(fd);

    return port;
}


static char *
xf_nginx_replace(const char *s, const char *from, const char *to)
{
    char        *out, *o;
    size_t       n, flen, tlen;
    const char  *p;

    flen = strlen(from);
    tlen = strlen(to);

    n = 0;
    for (p = strstr(s, from); p != NULL; p = strstr(p + flen, from)) {
        n++;
    }

    out = malloc(strlen(s) + n * tlen + 1);
    ck_assert_ptr_nonnull(out);

    o = out;
    for (p = strstr(s, from); p != NULL; p = strstr(s, from)) {
        memcpy(o, s, p - s);
        o += p - s;
        memcpy(o, to, tlen);
        o += tlen;
        s = p + flen;
    }

    strcpy(o, s);

    return out;
}


xf_nginx_t *
xf_nginx_new(const char *http_snippet, const char *brokers, int workers)
{
    char         path[192];
    xf_nginx_t  *n;

    n = calloc(1, sizeof(xf_nginx_t));
    ck_assert_ptr_nonnull(n);

    strcpy(n->dir, "/tmp/xf-nginx-XXXXXX");
    ck_assert_msg(mkdtemp(n->dir) != NULL, "mkdtemp: %s", strerror(errno));
    ck_assert_int_eq(chmod(n->dir, 0755), 0);

    snprintf(path, sizeof(path), "%s/asan", n->dir);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    ck_assert_int_eq(chmod(path, 0777), 0);     /* umask aside */

    snprintf(n->conf, sizeof(n->conf), "%s/nginx.conf", n->dir);
    snprintf(n->log, sizeof(n->log), "%s/error.log", n->dir);

    n->port = xf_test_free_port();
    n->workers = workers;
    snprintf(n->url, sizeof(n->url), "http://127.0.0.1:%d", n->port);

    xf_nginx_write_conf(n, http_snippet, brokers);

    return n;
}


void
xf_nginx_write_conf(xf_nginx_t *n, const char *http_snippet,
    const char *brokers)
{
    char         port[16], tmp[160];
    char        *s1, *s2;
    FILE        *f;
    const char  *module;

    snprintf(port, sizeof(port), "%d", n->port);
    s1 = xf_nginx_replace(http_snippet, "@PORT@", port);
    s2 = xf_nginx_replace(s1, "@BROKERS@", brokers ? brokers : "");

    /* written aside and renamed: a reload never reads half a file */
    snprintf(tmp, sizeof(tmp), "%s.new", n->conf);

    f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);

    module = getenv("XFLOW_MODULE");
    if (module != NULL && module[0] != '\0') {
        fprintf(f, "load_module %s;\n", module);
    }

    fprintf(f,
            "worker_processes %d;\n"
            "daemon off;\n"
            "master_process on;\n"
            "worker_shutdown_timeout 10s;\n"
            "error_log %s/error.log info;\n"
            "pid %s/nginx.pid;\n"
            "\n"
            "events {\n"
            "    worker_connections 1024;\n"
            "}\n"
            "\n"
            "http {\n"
            "    client_body_temp_path %s/body;\n"
            "    access_log %s/access.log;\n"
            "\n"
            "%s\n"
            "}\n",
            n->workers, n->dir, n->dir, n->dir, n->dir, s2);

    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(rename(tmp, n->conf), 0);

    free(s1);
    free(s2);
}


/* Where ldd resolves lib (a soname prefix) for file; 0 if it does not. */
static int
xf_nginx_ldd(const char *file, const char *lib, char *path, size_t size)
{
    int    found;
    char   cmd[512], line[1024], *p, *e;
    FILE  *f;

    snprintf(cmd, sizeof(cmd), "ldd '%s' 2>/dev/null", file);

    f = popen(cmd, "r");
    if (f == NULL) {
        return 0;
    }

    found = 0;

    /* "\tlibasan.so.8 => /usr/lib/.../libasan.so.8 (0x...)" */
    while (fgets(line, sizeof(line), f) != NULL) {
        p = line + strspn(line, " \t");
        if (found || strncmp(p, lib, strlen(lib)) != 0) {
            continue;
        }

        p = strstr(p, "=> ");
        if (p == NULL || p[3] != '/') {
            continue;
        }

        p += 3;
        e = strchr(p, ' ');
        if (e == NULL || (size_t) (e - p) >= size) {
            continue;
        }

        memcpy(path, p, e - p);
        path[e - p] = '\0';
        found = 1;
    }

    (void) pclose(f);

    return found;
}


static char **
xf_nginx_env(xf_nginx_t *n, int leaks)
{
    int          asan;
    char       **env, *v, def[128];
    char         libasan[256], librdkafka[256];
    size_t       i, k, cnt;
    const char  *opts, *module;

    for (cnt = 0; environ[cnt] != NULL; cnt++) {
        /* count */
    }

    env = calloc(cnt + 5, sizeof(char *));
    ck_assert_ptr_nonnull(env);

    v = getenv("XFLOW_ASAN");
    asan = (v != NULL && strcmp(v, "1") == 0);

    for (i = 0, k = 0; i < cnt; i++) {
        if (asan && (strncmp(environ[i], "ASAN_OPTIONS=", 13) == 0
                     || strncmp(environ[i], "UBSAN_OPTIONS=", 14) == 0
                     || strncmp(environ[i], "LSAN_OPTIONS=", 13) == 0
                     || strncmp(environ[i], "LD_PRELOAD=", 11) == 0))
        {
            continue;
        }

        env[k++] = strdup(environ[i]);
    }

    if (!asan) {
        return env;
    }

    module = getenv("XFLOW_MODULE");

    if (leaks
        && module != NULL
        && xf_nginx_ldd(xf_nginx_bin(), "libasan.so", libasan,
                        sizeof(libasan))
        && xf_nginx_ldd(module, "librdkafka.so", librdkafka,
                        sizeof(librdkafka)))
    {
        ck_assert_int_ge(asprintf(&env[k++], "LD_PRELOAD=%s %s", libasan,
                                  librdkafka), 0);

    } else {
        if (leaks) {
            fprintf(stderr, "xf_test: ldd did not find libasan and "
                    "librdkafka: leak checks off\n");
        }

        leaks = 0;
    }

    snprintf(def, sizeof(def),
             "detect_leaks=%d:abort_on_error=1:detect_odr_violation=0",
             leaks);

    opts = getenv("XFLOW_ASAN_OPTIONS");
    if (opts == NULL) {
        opts = def;
    }

    ck_assert_int_ge(asprintf(&env[k++], "ASAN_OPTIONS=%s:log_path=%s"
                              "/asan/asan", opts, n->dir), 0);

    opts = getenv("XFLOW_UBSAN_OPTIONS");
    if (opts == NULL) {
        opts = "print_stacktrace=1:halt_on_error=1";
    }

    ck_assert_int_ge(asprintf(&env[k++], "UBSAN_OPTIONS=%s:log_path=%s"
                              "/asan/ubsan", opts, n->dir), 0);

    /*
     * nginx 1.22's own: a "map" with a regular expression (the shipped
     * configurations' $xflow_log_addr) leaves PCRE2's compile context,
     * allocated once by ngx_regex_malloc() while the configuration is
     * read, to the process's end.  Not xflow's memory: suppressed by
     * that frame only.
     */
    snprintf(def, sizeof(def), "%s/lsan.supp", n->dir);
    xf_write_file(def, "leak:ngx_regex_malloc\n", 0644);
    ck_assert_int_ge(asprintf(&env[k++], "LSAN_OPTIONS=suppressions=%s:"
                              "print_suppressions=0", def), 0);

    return env;
}


static void
xf_nginx_env_free(char **env)
{
    size_t  i;

    for (i = 0; env[i] != NULL; i++) {
        free(env[i]);
    }

    free(env);
}


/*
 * fork+exec argv with stdout and stderr on out_fd; leaks: whether an ASan
 * nginx checks for leaks at exit.
 */
static pid_t
xf_nginx_spawn(xf_nginx_t *n, char *const argv[], int out_fd, int leaks)
{
    int     fd;
    long    max;
    char  **env;
    pid_t   pid;

    env = xf_nginx_env(n, leaks);
    max = sysconf(_SC_OPEN_MAX);

    pid = fork();
    ck_assert_int_ge(pid, 0);

    if (pid == 0) {
        /* Only async-signal-safe calls: librdkafka threads exist. */
        fd = open("/dev/null", O_RDONLY);
        if (fd != -1) {
            dup2(fd, 0);
        }

        dup2(out_fd, 1);
        dup2(out_fd, 2);

        /* No mock broker socket or check pipe may leak into nginx. */
        for (fd = 3; fd < max; fd++) {
            close(fd);
        }

        execve(argv[0], argv, env);
        _exit(127);
    }

    xf_nginx_env_free(env);

    return pid;
}


static int
xf_nginx_port_open(int port)
{
    int  fd;

    fd = xf_connect_loopback(port);
    if (fd < 0) {
        return 0;
    }

    close(fd);

    return 1;
}


static const char *
xf_nginx_bin(void)
{
    const char  *bin;

    bin = getenv("XFLOW_NGINX");

    return (bin != NULL && bin[0] != '\0') ? bin : "/usr/sbin/nginx";
}


void
xf_nginx_start(xf_nginx_t *n)
{
    int          fd, status;
    char         prefix[80], path[192], *log;
    char        *argv[8];
    pid_t        pids[XF_NGINX_MAX_WORKERS];
    int64_t      deadline;

    snprintf(prefix, sizeof(prefix), "%s/", n->dir);
    snprintf(path, sizeof(path), "%s/stderr.log", n->dir);

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);

    argv[0] = (char *) xf_nginx_bin();
    argv[1] = "-p";
    argv[2] = prefix;
    argv[3] = "-c";
    argv[4] = n->conf;
    argv[5] = "-e";
    argv[6] = n->log;
    argv[7] = NULL;

    n->master = xf_nginx_spawn(n, argv, fd, 1);
    close(fd);

    deadline = xf_now_ms() + XF_NGINX_START_TIMEOUT;

    while (!xf_nginx_port_open(n->port)) {
        if (waitpid(n->master, &status, WNOHANG) == n->master) {
            n->master = 0;
            log = xf_nginx_read_log(n);
            ck_abort_msg("nginx exited at start (status 0x%x), "
                         "error.log:\n%s", status, log);
        }

        if (xf_now_ms() > deadline) {
            log = xf_nginx_read_log(n);
            ck_abort_msg("nginx: port %d not open after %d ms, "
                         "error.log:\n%s", n->port, XF_NGINX_START_TIMEOUT,
                         log);
        }

        xf_sleep_ms(20);
    }

    /* The master listens before it forks: wait for the workers too. */
    while (xf_nginx_workers(n, pids, XF_NGINX_MAX_WORKERS)
           < (size_t) n->workers)
    {
        if (xf_now_ms() >= deadline) {
            log = xf_nginx_read_log(n);
            ck_abort_msg("nginx: fewer than %d workers after %d ms, "
                         "error.log:\n%s", n->workers,
                         XF_NGINX_START_TIMEOUT, log);
        }

        xf_sleep_ms(20);
    }
}


size_t
xf_nginx_workers(xf_nginx_t *n, pid_t *pids, size_t max)
{
    int             ppid;
    char            path[300], buf[512], *p;
    FILE           *f;
    DIR            *d;
    size_t          cnt;
    struct dirent  *de;

    cnt = 0;

    d = opendir("/proc");
    ck_assert_ptr_nonnull(d);

    while ((de = readdir(d)) != NULL && cnt < max) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }

        p = fgets(buf, sizeof(buf), f);
        fclose(f);

        if (p == NULL) {
            continue;
        }

        /* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
        p = strrchr(buf, ')');
        if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1) {
            continue;
        }

        if (ppid == n->master && n->master != 0) {
            pids[cnt++] = (pid_t) atoi(de->d_name);
        }
    }

    closedir(d);

    return cnt;
}


void
xf_nginx_reload(xf_nginx_t *n)
{
    size_t   i, j, nold, nnow, fresh;
    pid_t    old[XF_NGINX_MAX_WORKERS], now[XF_NGINX_MAX_WORKERS];
    int64_t  deadline;

    nold = xf_nginx_workers(n, old, XF_NGINX_MAX_WORKERS);

    ck_assert_int_eq(kill(n->master, SIGHUP), 0);

    deadline = xf_now_ms() + XF_NGINX_RELOAD_TIMEOUT;

    for ( ;; ) {
        nnow = xf_nginx_workers(n, now, XF_NGINX_MAX_WORKERS);

        /* Old workers may still be finishing requests: count new ones. */
        fresh = 0;
        for (i = 0; i < nnow; i++) {
            for (j = 0; j < nold && now[i] != old[j]; j++) {
                /* search */
            }

            fresh += (j == nold);
        }

        if (fresh >= (size_t) n->workers) {
            return;
        }

        ck_assert_msg(xf_now_ms() < deadline,
                      "reload: %zu new worker(s) of %d after %d ms",
                      fresh, n->workers, XF_NGINX_RELOAD_TIMEOUT);

        xf_sleep_ms(20);
    }
}


void
xf_nginx_quit(xf_nginx_t *n, int timeout_ms)
{
    int      status;
    pid_t    rc;
    int64_t  deadline;

    if (n->master == 0) {
        return;
    }

    (void) kill(n->master, SIGQUIT);

    deadline = xf_now_ms() + timeout_ms;

    for ( ;; ) {
        rc = waitpid(n->master, &status, WNOHANG);
        if (rc == n->master || (rc == -1 && errno == ECHILD)) {
            break;
        }

        if (xf_now_ms() > deadline) {
            fprintf(stderr, "nginx %d did not quit in %d ms: SIGKILL\n",
                    (int) n->master, timeout_ms);
            (void) kill(n->master, SIGKILL);
            (void) waitpid(n->master, &status, 0);
            break;
        }

        xf_sleep_ms(20);
    }

    n->master = 0;
}


pid_t
xf_nginx_kill_worker(xf_nginx_t *n)
{
    pid_t  pids[XF_NGINX_MAX_WORKERS];

    ck_assert_uint_ge(xf_nginx_workers(n, pids, XF_NGINX_MAX_WORKERS), 1);
    ck_assert_int_eq(kill(pids[0], SIGKILL), 0);

    if (xf_nginx_nkilled < XF_NGINX_MAX_KILLED) {
        xf_nginx_killed[xf_nginx_nkilled++] = pids[0];
    }

    return pids[0];
}


int
xf_nginx_test_config(xf_nginx_t *n, char **output)
{
    int      fds[2], status;
    char     prefix[80], tlog[160], buf[4096], *argv[9];
    char    *out;
    size_t   len;
    ssize_t  r;
    pid_t    pid;

    snprintf(prefix, sizeof(prefix), "%s/", n->dir);
    snprintf(tlog, sizeof(tlog), "%s/test.log", n->dir);

    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);

    argv[0] = (char *) xf_nginx_bin();
    argv[1] = "-t";
    argv[2] = "-p";
    argv[3] = prefix;
    argv[4] = "-c";
    argv[5] = n->conf;
    argv[6] = "-e";
    argv[7] = tlog;
    argv[8] = NULL;

    pid = xf_nginx_spawn(n, argv, fds[1], 0);
    close(fds[1]);

    out = NULL;
    len = 0;

    for ( ;; ) {
        r = read(fds[0], buf, sizeof(buf));
        if (r == -1 && errno == EINTR) {
            continue;
        }

        if (r <= 0) {
            break;
        }

        out = realloc(out, len + r + 1);
        ck_assert_ptr_nonnull(out);
        memcpy(out + len, buf, r);
        len += r;
    }

    close(fds[0]);

    if (out == NULL) {
        out = strdup("");
    }

    out[len] = '\0';

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);

    if (output != NULL) {
        *output = out;

    } else {
        free(out);
    }

    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


char *
xf_nginx_refuses(xf_nginx_t *n, const char *http_snippet,
    const char *brokers, const char *needle)
{
    int    rc;
    char  *out;

    if (http_snippet != NULL) {
        xf_nginx_write_conf(n, http_snippet, brokers);
    }

    rc = xf_nginx_test_config(n, &out);
    ck_assert_msg(rc != 0, "nginx -t accepted it: %s", out);
    ck_assert_msg(strstr(out, needle) != NULL, "no \"%s\" in: %s", needle,
                  out);

    return out;
}


char *
xf_read_file(const char *path, size_t *len)
{
    char    *p;
    long     size;
    size_t   n;
    FILE    *f;

    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }

    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);

    p = malloc(size + 1);
    ck_assert_ptr_nonnull(p);

    n = fread(p, 1, size, f);
    p[n] = '\0';
    fclose(f);

    if (len != NULL) {
        *len = n;
    }

    return p;
}


char *
xf_nginx_read_log(xf_nginx_t *n)
{
    char    *p;
    size_t   len;

    p = xf_read_file(n->log, &len);

    return p ? p : strdup("");
}


/*
 * Print every line of text that holds a failure marker; returns how many.
 * A worker this test killed on purpose makes an expected [alert].
 */
static int
xf_nginx_scan(const char *path, const char *text, int worker_kill)
{
    int          bad;
    size_t       i, k;
    char         expected[80];
    const char  *line, *eol;

    static const char  *markers[] = {
        "[alert]", "[emerg]", "AddressSanitizer", "runtime error:",
        "LeakSanitizer", NULL
    };

    bad = 0;

    for (line = text; *line != '\0'; line = eol + (*eol != '\0')) {
        eol = strchr(line, '\n');
        if (eol == NULL) {
            eol = line + strlen(line);
        }

        for (i = 0; markers[i] != NULL; i++) {
            if (xf_memstr(line, eol - line, markers[i]) == NULL) {
                continue;
            }

            for (k = 0; worker_kill && k < xf_nginx_nkilled; k++) {
                snprintf(expected, sizeof(expected),
                         "process %d exited on signal 9",
                         (int) xf_nginx_killed[k]);

                if (xf_memstr(line, eol - line, expected) != NULL) {
                    break;
                }
            }

            if (worker_kill && k < xf_nginx_nkilled) {
                continue;
            }

            if (bad++ < 20) {
                fprintf(stderr, "%s: %.*s\n", path, (int) (eol - line),
                        line);
            }

            break;
        }
    }

    return bad;
}


void
xf_nginx_check_log(xf_nginx_t *n)
{
    int             bad;
    char            path[512], *text;
    DIR            *d;
    size_t          len;
    struct dirent  *de;

    bad = 0;

    text = xf_read_file(n->log, &len);
    if (text != NULL) {
        bad += xf_nginx_scan(n->log, text, 1);
        free(text);
    }

    snprintf(path, sizeof(path), "%s/stderr.log", n->dir);
    text = xf_read_file(path, &len);
    if (text != NULL) {
        bad += xf_nginx_scan(path, text, 0);
        free(text);
    }

    snprintf(path, sizeof(path), "%s/asan", n->dir);
    d = opendir(path);
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') {
                continue;
            }

            snprintf(path, sizeof(path), "%s/asan/%s", n->dir, de->d_name);
            text = xf_read_file(path, &len);
            if (text == NULL) {
                continue;
            }

            /* Any sanitizer report is a failure, whatever it says. */
            if (len > 0) {
                fprintf(stderr, "%s:\n%.4000s\n", path, text);
                bad++;
            }

            free(text);
        }

        closedir(d);
    }

    ck_assert_msg(bad == 0, "%d failure line(s) in nginx logs under %s "
                  "(see stderr)", bad, n->dir);
}


static int
xf_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) remove(path);

    return 0;
}


void
xf_nginx_free(xf_nginx_t *n)
{
    const char  *keep;

    if (n == NULL) {
        return;
    }

    xf_nginx_quit(n, 10000);

    keep = getenv("XF_TEST_KEEP");
    if (keep != NULL && strcmp(keep, "1") == 0) {
        fprintf(stderr, "kept %s\n", n->dir);

    } else {
        (void) nftw(n->dir, xf_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }

    free(n);
}
