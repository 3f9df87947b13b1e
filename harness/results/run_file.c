/* run_file.c — a file a run appends rows to (see run_file.h). */
#include "results/run_file.h"
#include "core/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int run_file_lock(int fd, const char *path, FILE *log, char *err, size_t err_len)
{
    /* The holder may let go between our two calls: then try again. */
    for (int attempt = 0; attempt < 3; attempt++) {
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        if (fcntl(fd, F_SETLK, &l) == 0) return 0;
        if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EINVAL) {
            if (log)
                fprintf(log, "attnbench: %s: cannot be locked here (%s): nothing stops another "
                             "run from writing it at the same time\n", path, strerror(errno));
            return 0;
        }
        if (errno != EACCES && errno != EAGAIN)
            return harness_fail(err, err_len, "%s: cannot lock: %s", path, strerror(errno));
        struct flock holder = l;
        if (fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK) {
            if (holder.l_pid > 0)
                return harness_fail(err, err_len,
                            "%s is in use by another run (PID %ld): wait for it to end, or write "
                            "to another file",
                            path, (long)holder.l_pid);
            return harness_fail(err, err_len,
                        "%s is in use by another run (on another machine: no PID here): wait for "
                        "it to end, or write to another file",
                        path);
        }
    }
    return harness_fail(err, err_len, "%s: cannot lock: it is taken and let go over and over",
                        path);
}

/* The whole file from its start, through the descriptor (see run_file.h). */
static int read_all(struct run_file *f, char *err, size_t err_len)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return harness_fail(err, err_len, "%s: cannot stat: %s", f->path, strerror(errno));
    size_t cap = (size_t)st.st_size + 1, n = 0;
    f->text = malloc(cap);
    if (!f->text) return harness_fail(err, err_len, "%s: out of memory", f->path);
    for (;;) {
        if (n + 1 == cap) {
            char *grown = realloc(f->text, cap *= 2);
            if (!grown) return harness_fail(err, err_len, "%s: out of memory", f->path);
            f->text = grown;
        }
        ssize_t got = pread(f->fd, f->text + n, cap - n - 1, (off_t)n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return harness_fail(err, err_len, "%s: cannot read: %s", f->path, strerror(errno));
        if (got == 0) break;
        n += (size_t)got;
    }
    f->text[n] = '\0';
    f->len = n;
    return 0;
}

int run_file_open(struct run_file *f, const char *path, FILE *log, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path)
        return harness_fail(err, err_len, "%s: path is too long (at most %zu characters)", path,
                            sizeof f->path - 1);
    f->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (f->fd < 0)
        return harness_fail(err, err_len, "%s: cannot open for appending: %s", path, strerror(errno));
    if (run_file_lock(f->fd, path, log, err, err_len) != 0 || read_all(f, err, err_len) != 0) {
        run_file_close(f);
        return -1;
    }
    return 0;
}

size_t run_file_whole_length(const struct run_file *f)
{
    size_t whole = 0;
    int quoted = 0; /* a doubled quote toggles twice: no change */
    for (size_t i = 0; i < f->len; i++) {
        if (f->text[i] == '"') quoted = !quoted;
        else if (f->text[i] == '\n' && !quoted) whole = i + 1;
    }
    return whole;
}

/* Cuts the file to its first `keep` bytes. */
static int cut(struct run_file *f, size_t keep, char *err, size_t err_len)
{
    if (ftruncate(f->fd, (off_t)keep) != 0)
        return harness_fail(err, err_len, "%s: cannot cut to %zu bytes: %s", f->path, keep,
                            strerror(errno));
    f->len = keep;
    f->text[keep] = '\0';
    return 0;
}

int run_file_settle(struct run_file *f, enum run_file_mode mode, const char *header,
                    size_t header_len, FILE *log, char *err, size_t err_len)
{
    const char *after_header = memchr(f->text, '\n', f->len);
    after_header = after_header ? after_header + 1 : f->text + f->len;
    if (mode == RUN_FILE_NEW && after_header < f->text + f->len) {
        long rows = 0;
        for (const char *c = after_header; c < f->text + f->len; c++) rows += *c == '\n';
        if (f->text[f->len - 1] != '\n') rows++;
        return harness_fail(err, err_len,
                    "%s already holds %ld row%s: --resume to continue it (only the points it "
                    "lacks are measured), or --force to start it afresh (its rows are deleted)",
                    f->path, rows, rows == 1 ? "" : "s");
    }
    if (mode == RUN_FILE_FORCE && f->len > 0 && cut(f, 0, err, err_len) != 0) return -1;
    const size_t whole = run_file_whole_length(f);
    if (mode == RUN_FILE_RESUME && whole < f->len) {
        const size_t torn = f->len - whole;
        if (cut(f, whole, err, err_len) != 0) return -1;
        if (log)
            fprintf(log, "attnbench: %s: its last row was cut short (no newline at its end): "
                         "removed it (%zu bytes); that point is measured again\n",
                    f->path, torn);
    }
    if (f->len == 0 && run_file_append(f, header, header_len) != 0)
        return harness_fail(err, err_len, "%s: cannot write the header: %s", f->path,
                            strerror(errno));
    return 0;
}

int run_file_append(struct run_file *f, const void *data, size_t len)
{
    const off_t before = lseek(f->fd, 0, SEEK_END);
    if (before < 0) return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t put = write(f->fd, (const char *)data + done, len - done);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) {
            const int why = put < 0 ? errno : EIO;
            const int undone = ftruncate(f->fd, before); /* should it fail, --resume cuts */
            (void)undone;
            errno = why;
            return -1;
        }
        done += (size_t)put;
    }
    return 0;
}

int run_file_replace(struct run_file *f, const char *text, size_t len, char *err,
                     size_t err_len)
{
    char tmp[sizeof f->path + 32];
    snprintf(tmp, sizeof tmp, "%s.rewrite-%ld", f->path, (long)getpid());
    char *copy = malloc(len + 1);
    if (!copy) return harness_fail(err, err_len, "%s: out of memory", f->path);
    memcpy(copy, text, len);
    copy[len] = '\0';
    struct stat st;
    const mode_t mode = fstat(f->fd, &st) == 0 ? st.st_mode & 07777 : 0666;
    const int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, mode);
    if (fd < 0) {
        free(copy);
        return harness_fail(err, err_len, "%s: cannot create %s to rewrite it: %s", f->path, tmp,
                            strerror(errno));
    }
    struct run_file fresh = {.fd = fd, .text = copy, .len = 0};
    snprintf(fresh.path, sizeof fresh.path, "%s", f->path);
    int rc = run_file_lock(fd, tmp, NULL, err, err_len);
    if (rc == 0 && (run_file_append(&fresh, text, len) != 0 || fsync(fd) != 0))
        rc = harness_fail(err, err_len, "%s: cannot write %s to rewrite it: %s", f->path, tmp,
                          strerror(errno));
    if (rc == 0 && rename(tmp, f->path) != 0)
        rc = harness_fail(err, err_len, "%s: cannot rename %s over it: %s", f->path, tmp,
                          strerror(errno));
    if (rc != 0) {
        unlink(tmp);
        run_file_close(&fresh);
        return -1;
    }
    fresh.len = len;
    run_file_close(f); /* the old file's lock goes; the path is the new file's now */
    *f = fresh;
    return 0;
}

void run_file_close(struct run_file *f)
{
    if (f->fd >= 0) close(f->fd);
    free(f->text);
    f->fd = -1;
    f->text = NULL;
    f->len = 0;
}
