/* gnuplot.c — gnuplot's literals and runs (see gnuplot.h). */
#include "plot/gnuplot.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Every figure is drawn in each of these, as OUT_DIR/FIGURE.FORMAT. */
static const char *const formats[] = {"png", "svg"};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

void gp_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc((unsigned char)*s < ' ' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

void gp_string(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s = ", name);
    gp_quoted(f, value);
    fputc('\n', f);
}

void gp_number(FILE *f, const char *name, double value)
{
    fprintf(f, "%s = %.17g\n", name, value);
}

const char *gnuplot_script(char *path, size_t len, const char *scripts, const char *figure)
{
    snprintf(path, len, "%s/%s.gp", scripts, figure);
    return path;
}

/* OUT_DIR/FIGURE.FORMAT, where gnuplot draws a figure in a format. */
static const char *drawn_path(char *path, size_t len, const char *out_dir, const char *figure,
                              const char *format)
{
    snprintf(path, len, "%s/%s.%s", out_dir, figure, format);
    return path;
}

int gnuplot_installed(void)
{
    const char *path = getenv("PATH");
    for (const char *dir = path; dir && *dir;) {
        size_t len = strcspn(dir, ":");
        char candidate[1024];
        snprintf(candidate, sizeof candidate, "%.*s/gnuplot", (int)len, len ? dir : ".");
        if (access(candidate, X_OK) == 0) return 1;
        dir += len + (dir[len] == ':');
    }
    return 0;
}

/* One format of gnuplot_draw(); 0 when gnuplot succeeded and wrote a
 * non-empty file. */
static int draw_format(const char *settings, const char *scripts, const char *out_dir,
                       const char *figure, const char *format)
{
    char script[1100], out[1100], *setup = NULL;
    size_t setup_len = 0;
    gnuplot_script(script, sizeof script, scripts, figure);
    drawn_path(out, sizeof out, out_dir, figure, format);
    FILE *f = open_memstream(&setup, &setup_len);
    if (!f) return -1;
    fprintf(f, "term = '%s'; out = ", format);
    gp_quoted(f, out);
    fprintf(f, "; plots_dir = ");
    gp_quoted(f, scripts);
    fclose(f);
    char *argv[] = {"gnuplot", "-e", setup, (char *)settings, script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    free(setup);
    int status = 0;
    if (rc != 0) {
        fprintf(stderr, "attnbench plot: cannot run gnuplot: %s\n", strerror(rc));
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    struct stat st;
    const char *failure = !WIFEXITED(status)           ? "gnuplot was killed"
                          : WEXITSTATUS(status) != 0   ? "gnuplot failed"
                          : stat(out, &st) != 0 || !st.st_size ? "gnuplot wrote nothing"
                                                               : NULL;
    if (!failure) return 0;
    fprintf(stderr, "attnbench plot: %s on %s for %s\n", failure, script, out);
    unlink(out); /* an empty or partial figure is no figure */
    return -1;
}

int gnuplot_draw(const char *settings, const char *scripts, const char *out_dir,
                 const char *figure)
{
    int rc = 0;
    for (size_t f = 0; f < FORMAT_COUNT; f++)
        if (draw_format(settings, scripts, out_dir, figure, formats[f]) != 0) rc = -1;
    return rc;
}

void gnuplot_remove_drawn(const char *out_dir, const char *figure)
{
    for (size_t f = 0; f < FORMAT_COUNT; f++) {
        char path[1100];
        unlink(drawn_path(path, sizeof path, out_dir, figure, formats[f]));
    }
}
