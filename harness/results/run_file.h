/* run_file.h — a CSV file that a run appends rows to (the results file,
 * the steps file): one run at a time, continued or started afresh only when
 * asked, and never left with a row cut in two.
 *
 * The lock. run_file_open() takes an exclusive POSIX record lock (fcntl
 * F_SETLK) on the whole file and keeps it until run_file_close(); a file
 * another process holds is refused at once, naming that process (F_GETLK).
 * The kernel drops a record lock when its process ends, however it ends: a
 * run that died (SIGKILL, a crash) leaves no stale lock, and the next run
 * takes the file. Record locks belong to a process: a forked child neither
 * holds the lock nor releases it. Closing *any* descriptor of the file
 * releases it too, so while it is held the process reads the file only
 * through what run_file_open() read (`text`) and writes it only here.
 * Where the file system has no locks (ENOLCK), the run goes on unlocked and
 * says so.
 *
 * Writing. A row reaches the file in one write(2). If the write comes up
 * short (a full disk, a file-size limit), the part written is cut off
 * again: the file ends where it did before the row.
 *
 * What is there already (run_file_settle(), after the caller has checked
 * the header):
 *   RUN_FILE_NEW     a file with rows is refused (an empty one, or one with
 *                    only the header, is used): continuing it (--resume) or
 *                    starting it afresh (--force) is the user's choice;
 *   RUN_FILE_RESUME  its rows are kept; a last row without its newline (a
 *                    write cut short by a crash or a full disk) is cut off,
 *                    and the cut is said on the log;
 *   RUN_FILE_FORCE   it is emptied.
 * An empty file then gets the header.
 */
#ifndef HARNESS_RESULTS_RUN_FILE_H
#define HARNESS_RESULTS_RUN_FILE_H

#include <stddef.h>
#include <stdio.h>

enum run_file_mode { RUN_FILE_NEW, RUN_FILE_RESUME, RUN_FILE_FORCE };

struct run_file {
    int fd;              /* -1 when closed */
    char path[1024];
    char *text;          /* what the file held when opened (NUL-terminated), less what
                            run_file_settle() cut; not what is appended since */
    size_t len;
};

/* Opens `path` (created when missing) for appending, takes the lock, and
 * reads what is there into `text`. 0, or -1 with a message: "PATH is in use
 * by another run (PID 1234) ...". `log` (may be NULL) hears of a file
 * system without locks. */
int run_file_open(struct run_file *f, const char *path, FILE *log, char *err, size_t err_len);

/* The lock alone, on `fd` open for writing on `path` (the JSON results of
 * results/json.h): 0, or -1 with the message above. */
int run_file_lock(int fd, const char *path, FILE *log, char *err, size_t err_len);

/* The length of `text` up to the end of its last whole line: a newline
 * outside quotes (RFC 4180). Shorter than `len` when the last row was cut. */
size_t run_file_whole_length(const struct run_file *f);

/* Applies `mode` to what the file holds (above), then writes `header` (its
 * newline included) into an empty file. 0, or -1 with a message that names
 * the file and, for RUN_FILE_NEW, both choices. */
int run_file_settle(struct run_file *f, enum run_file_mode mode, const char *header,
                    size_t header_len, FILE *log, char *err, size_t err_len);

/* Appends `len` bytes in one write(2); a short write is undone. 0, or -1
 * with errno set. */
int run_file_append(struct run_file *f, const void *data, size_t len);

/* Replaces the file's whole content by `len` bytes of `text`, as one step:
 * they are written to a new file beside it (PATH.rewrite-PID), locked before
 * anything is written and synced, which is then renamed over PATH, so that
 * PATH holds either the old content or the new, and no other run can take it
 * in between. `f` then holds the new file (its lock, `text`). 0; or -1 with
 * a message, the file as it was. */
int run_file_replace(struct run_file *f, const char *text, size_t len, char *err,
                     size_t err_len);

/* Closes the file, which releases the lock. */
void run_file_close(struct run_file *f);

#endif
