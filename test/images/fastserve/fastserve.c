/*
 * fastserve: a small, fast SageMaker-contract inference server for sagebox's
 * benchmarks and load tests. One thread per connection, blocking I/O,
 * HTTP/1.1 keep-alive and pipelining, Content-Length and chunked request bodies,
 * "Expect: 100-continue".
 *
 *   GET|HEAD /ping                  -> 200, empty body
 *   POST /invocations               -> 200, the request body echoed back with the
 *                                      request's Content-Type (application/octet-stream
 *                                      when the request has none)
 *   GET /execution-parameters       -> 404
 *   anything else                   -> 404 (405 for a wrong method on a known path)
 *
 * Listens on 0.0.0.0:$SAGEMAKER_BIND_TO_PORT (default 8080). Env:
 *   FASTSERVE_MAX_BODY   largest accepted request body in bytes (default 64 MiB; 413 above)
 *   FASTSERVE_LOG=1      one log line per request on stdout
 * Exits 0 at once on SIGTERM/SIGINT (it runs as PID 1 in its container).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER_BYTES (64 * 1024)
#define MAX_CT_LEN 255
#define IDLE_TIMEOUT_S 300

static size_t g_max_body = 64u << 20;
static int g_log = 0;

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

static int buf_reserve(buf_t *b, size_t extra) {
    if (b->cap - b->len >= extra)
        return 0;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_append(buf_t *b, const char *src, size_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* Read more bytes from the socket into b. Returns >0 bytes read, 0 on EOF, -1 on error. */
static ssize_t fill(int fd, buf_t *b, size_t want) {
    if (want < 16384)
        want = 16384;
    if (buf_reserve(b, want) < 0)
        return -1;
    for (;;) {
        ssize_t r = recv(fd, b->data + b->len, b->cap - b->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0)
            b->len += (size_t)r;
        return r;
    }
}

static int send_all(int fd, struct iovec *iov, int cnt) {
    while (cnt > 0) {
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)cnt;
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static const char *reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

static int respond(int fd, int status, const char *ctype, const char *body, size_t body_len,
                   int send_body, int keep_alive, int http10) {
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason(status), ctype, body_len,
                     keep_alive ? (http10 ? "Connection: keep-alive\r\n" : "")
                                : "Connection: close\r\n");
    struct iovec iov[2];
    iov[0].iov_base = head;
    iov[0].iov_len = (size_t)n;
    int cnt = 1;
    if (send_body && body_len > 0) {
        iov[1].iov_base = (void *)body;
        iov[1].iov_len = body_len;
        cnt = 2;
    }
    return send_all(fd, iov, cnt);
}

static int simple_error(int fd, int status) {
    char msg[96];
    int n = snprintf(msg, sizeof msg, "{\"error\":\"%s\"}", reason(status));
    respond(fd, status, "application/json", msg, (size_t)n, 1, 0, 0);
    return -1;
}

static int token_in(const char *value, size_t vlen, const char *token) {
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= vlen; i++) {
        if (strncasecmp(value + i, token, tl) == 0) {
            int left_ok = i == 0 || value[i - 1] == ',' || value[i - 1] == ' ' || value[i - 1] == '\t';
            int right_ok = i + tl == vlen || value[i + tl] == ',' || value[i + tl] == ' ' ||
                           value[i + tl] == '\t' || value[i + tl] == ';';
            if (left_ok && right_ok)
                return 1;
        }
    }
    return 0;
}

typedef struct {
    char method[16];
    char path[1024];
    int http10;
    int keep_alive;
    int chunked;
    int has_length;
    unsigned long long content_length;
    int expect_continue;
    char content_type[MAX_CT_LEN + 1];
} request_t;

/* Parse the head b->data[0..head_len). Returns 0, or an HTTP status on error. */
static int parse_head(const char *p, size_t head_len, request_t *rq) {
    memset(rq, 0, sizeof *rq);
    const char *end = p + head_len;
    const char *eol = memmem(p, head_len, "\r\n", 2);
    if (!eol)
        return 400;
    /* request line: METHOD SP target SP HTTP/1.x */
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof rq->method)
        return 400;
    memcpy(rq->method, p, (size_t)(sp1 - p));
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(eol - t));
    if (!sp2 || sp2 == t)
        return 400;
    size_t tlen = (size_t)(sp2 - t);
    const char *q = memchr(t, '?', tlen);
    if (q)
        tlen = (size_t)(q - t);
    if (tlen >= sizeof rq->path)
        tlen = sizeof rq->path - 1;
    memcpy(rq->path, t, tlen);
    const char *ver = sp2 + 1;
    size_t vlen = (size_t)(eol - ver);
    if (vlen == 8 && memcmp(ver, "HTTP/1.1", 8) == 0)
        rq->http10 = 0;
    else if (vlen == 8 && memcmp(ver, "HTTP/1.0", 8) == 0)
        rq->http10 = 1;
    else
        return 400;
    rq->keep_alive = !rq->http10;

    const char *line = eol + 2;
    while (line < end) {
        const char *le = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!le)
            return 400;
        if (le == line)
            break; /* blank line: end of head */
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (!colon || colon == line)
            return 400;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        const char *ve = le;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vl = (size_t)(ve - v);
        if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            if (vl == 0 || vl > 19)
                return 400;
            unsigned long long n = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return 400;
                n = n * 10 + (unsigned)(v[i] - '0');
            }
            if (rq->has_length && n != rq->content_length)
                return 400;
            rq->has_length = 1;
            rq->content_length = n;
        } else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            if (token_in(v, vl, "chunked"))
                rq->chunked = 1;
            else if (!token_in(v, vl, "identity"))
                return 501;
        } else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0) {
            if (token_in(v, vl, "close"))
                rq->keep_alive = 0;
            else if (token_in(v, vl, "keep-alive"))
                rq->keep_alive = 1;
        } else if (nlen == 6 && strncasecmp(line, "Expect", 6) == 0) {
            if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0)
                rq->expect_continue = 1;
        } else if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            size_t o = 0;
            for (size_t i = 0; i < vl && o < MAX_CT_LEN; i++)
                if (v[i] != '\r' && v[i] != '\n' && v[i] != '\0')
                    rq->content_type[o++] = v[i];
            rq->content_type[o] = '\0';
        }
        line = le + 2;
    }
    return 0;
}

static void send_continue(int fd) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)cont, sizeof cont - 1};
    send_all(fd, &iov, 1);
}

/* Decode a chunked body that starts at b->data[*pos]; appends to out, advances *pos.
 * Returns 0, -1 on I/O error/EOF, or an HTTP status on a malformed/oversized body. */
static int read_chunked(int fd, buf_t *b, size_t *pos, buf_t *out) {
    for (;;) {
        const char *eol;
        while (!(eol = memmem(b->data + *pos, b->len - *pos, "\r\n", 2))) {
            if (b->len - *pos > 4096)
                return 400;
            if (fill(fd, b, 0) <= 0)
                return -1;
        }
        const char *s = b->data + *pos;
        unsigned long long size = 0;
        int digits = 0;
        while (s < eol) {
            char c = *s;
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else break;
            if (++digits > 15)
                return 413;
            size = size * 16 + (unsigned)d;
            s++;
        }
        if (digits == 0 || (s < eol && *s != ';' && *s != ' ' && *s != '\t'))
            return 400;
        *pos = (size_t)(eol - b->data) + 2;
        if (size == 0) {
            /* trailer section, ends with an empty line */
            for (;;) {
                while (!(eol = memmem(b->data + *pos, b->len - *pos, "\r\n", 2))) {
                    if (b->len - *pos > MAX_HEADER_BYTES)
                        return 431;
                    if (fill(fd, b, 0) <= 0)
                        return -1;
                }
                size_t ll = (size_t)(eol - (b->data + *pos));
                *pos += ll + 2;
                if (ll == 0)
                    return 0;
            }
        }
        if (out->len + size > g_max_body)
            return 413;
        while (b->len - *pos < size + 2) {
            if (fill(fd, b, (size_t)size + 2 - (b->len - *pos)) <= 0)
                return -1;
        }
        if (buf_append(out, b->data + *pos, (size_t)size) < 0)
            return -1;
        *pos += (size_t)size;
        if (b->data[*pos] != '\r' || b->data[*pos + 1] != '\n')
            return 400;
        *pos += 2;
    }
}

static void log_line(const request_t *rq, int status, size_t in, size_t outn) {
    if (!g_log)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("%ld.%03ld %s %s %d in=%zu out=%zu\n", (long)ts.tv_sec, ts.tv_nsec / 1000000L,
           rq->method, rq->path, status, in, outn);
    fflush(stdout);
}

static void *connection(void *arg) {
    int fd = (int)(intptr_t)arg;
    buf_t b = {0};
    buf_t chunked = {0};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {IDLE_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    for (;;) {
        /* 1. the request head */
        const char *hend;
        size_t scanned = 0;
        while (!(hend = memmem(b.data + (scanned > 3 ? scanned - 3 : 0),
                               b.len - (scanned > 3 ? scanned - 3 : 0), "\r\n\r\n", 4))) {
            scanned = b.len;
            if (b.len > MAX_HEADER_BYTES) {
                simple_error(fd, 431);
                goto done;
            }
            if (fill(fd, &b, 0) <= 0)
                goto done;
        }
        size_t head_len = (size_t)(hend - b.data) + 4;
        request_t rq;
        int st = parse_head(b.data, head_len, &rq);
        if (st) {
            simple_error(fd, st);
            goto done;
        }

        /* 2. the body */
        const char *body = NULL;
        size_t body_len = 0, consumed = head_len;
        if (rq.chunked) {
            if (rq.expect_continue && b.len == head_len)
                send_continue(fd);
            chunked.len = 0;
            size_t pos = head_len;
            st = read_chunked(fd, &b, &pos, &chunked);
            if (st < 0)
                goto done;
            if (st) {
                simple_error(fd, st);
                goto done;
            }
            body = chunked.data;
            body_len = chunked.len;
            consumed = pos;
        } else if (rq.has_length && rq.content_length > 0) {
            if (rq.content_length > g_max_body) {
                simple_error(fd, 413);
                goto done;
            }
            size_t need = head_len + (size_t)rq.content_length;
            if (rq.expect_continue && b.len < need)
                send_continue(fd);
            while (b.len < need) {
                if (fill(fd, &b, need - b.len) <= 0)
                    goto done;
            }
            body = b.data + head_len;
            body_len = (size_t)rq.content_length;
            consumed = need;
        }

        /* 3. route and answer */
        int is_get = strcmp(rq.method, "GET") == 0, is_head = strcmp(rq.method, "HEAD") == 0;
        int is_post = strcmp(rq.method, "POST") == 0;
        int status;
        int rc;
        if (strcmp(rq.path, "/invocations") == 0) {
            if (is_post) {
                status = 200;
                rc = respond(fd, 200, rq.content_type[0] ? rq.content_type : "application/octet-stream",
                             body, body_len, 1, rq.keep_alive, rq.http10);
            } else {
                status = 405;
                rc = respond(fd, 405, "application/json", "{\"error\":\"use POST\"}", 20, !is_head,
                             rq.keep_alive, rq.http10);
            }
        } else if (strcmp(rq.path, "/ping") == 0) {
            status = (is_get || is_head) ? 200 : 405;
            rc = respond(fd, status, "text/plain", "", 0, 0, rq.keep_alive, rq.http10);
        } else {
            status = 404;
            rc = respond(fd, 404, "application/json", "{\"error\":\"not found\"}", 21, !is_head,
                         rq.keep_alive, rq.http10);
        }
        log_line(&rq, status, body_len, status == 200 && is_post ? body_len : 0);
        if (rc < 0 || !rq.keep_alive)
            goto done;

        /* 4. keep any pipelined bytes, drop the rest */
        if (consumed < b.len)
            memmove(b.data, b.data + consumed, b.len - consumed);
        b.len -= consumed;
        if (b.cap > (4u << 20) && b.len < 16384) { /* give back memory after a big body */
            char *p = realloc(b.data, 16384);
            if (p) {
                b.data = p;
                b.cap = 16384;
            }
        }
        if (chunked.cap > (4u << 20)) {
            free(chunked.data);
            chunked.data = NULL;
            chunked.cap = chunked.len = 0;
        }
    }
done:
    close(fd);
    free(b.data);
    free(chunked.data);
    return NULL;
}

static void on_signal(int sig) {
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    const char *port_s = getenv("SAGEMAKER_BIND_TO_PORT");
    int port = port_s && *port_s ? atoi(port_s) : 8080;
    const char *mb = getenv("FASTSERVE_MAX_BODY");
    if (mb && *mb)
        g_max_body = (size_t)strtoull(mb, NULL, 10);
    const char *lg = getenv("FASTSERVE_LOG");
    g_log = lg && strcmp(lg, "1") == 0;

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((uint16_t)port);
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    if (listen(ls, 1024) < 0) {
        perror("listen");
        return 1;
    }
    printf("fastserve listening on 0.0.0.0:%d (max body %zu bytes)\n", port, g_max_body);
    fflush(stdout);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
                usleep(10000);
                continue;
            }
            perror("accept");
            continue;
        }
        pthread_t th;
        if (pthread_create(&th, &attr, connection, (void *)(intptr_t)fd) != 0) {
            close(fd);
            usleep(1000);
        }
    }
}
