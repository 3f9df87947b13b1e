/* test_interrupt.c — what stops a sweep (harness/sweep/interrupt.c): the
 * command printed to resume a stopped run (quoted for the shell, without
 * --force, with --resume once), and a stop signal recorded and passed on to
 * a registered process group. */
#include "sweep/interrupt.h"

#include <signal.h>
#include <sys/wait.h>

#include "test_util.h"

static void test_resume_command(void)
{
    char out[512];
    char *plain[] = {"build/harness/attnbench", "run", "seqlen", "--seqlen", "2^10..2^14",
                     "--methods", "full:flash,mita", "--out", "out/seqlen-cuda.csv"};
    CHECK(interrupt_resume_command(9, plain, out, sizeof out) == 0);
    CHECK_STR(out, "build/harness/attnbench run seqlen --seqlen 2^10..2^14 --methods "
                   "full:flash,mita --out out/seqlen-cuda.csv --resume");

    /* --force would delete what is to be resumed; --resume is not doubled. */
    char *forced[] = {"attnbench", "run", "--force", "--out", "x.csv"};
    CHECK(interrupt_resume_command(5, forced, out, sizeof out) == 0);
    CHECK_STR(out, "attnbench run --out x.csv --resume");
    char *resumed[] = {"attnbench", "run", "--resume", "--out", "x.csv"};
    CHECK(interrupt_resume_command(5, resumed, out, sizeof out) == 0);
    CHECK_STR(out, "attnbench run --resume --out x.csv");

    /* What a shell would split or expand is quoted. */
    char *odd[] = {"attnbench", "run", "--out", "my results.csv", "--methods", "it's", "--seqlen",
                   "", "--plugin", "$HOME/x.so"};
    CHECK(interrupt_resume_command(10, odd, out, sizeof out) == 0);
    CHECK_STR(out, "attnbench run --out 'my results.csv' --methods 'it'\\''s' --seqlen '' "
                   "--plugin '$HOME/x.so' --resume");

    CHECK(interrupt_resume_command(5, forced, out, 20) != 0); /* does not fit */
    CHECK(interrupt_resume_command(5, forced, out, 34) != 0);
    CHECK(interrupt_resume_command(5, forced, out, 35) == 0);
}

static void test_pass_on(void)
{
    interrupt_install(NULL);
    CHECK(interrupt_signal() == 0);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        for (;;) pause();
    }
    setpgid(child, child);
    interrupt_pass_on(-child, SIGKILL);
    raise(SIGTERM); /* handled: recorded and passed on, not the end of this test */
    CHECK(interrupt_signal() == SIGTERM);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
          WTERMSIG(status) == SIGKILL);
    interrupt_forget(-child);
    interrupt_uninstall();
    CHECK(interrupt_signal() == 0);
}

int main(void)
{
    test_resume_command();
    test_pass_on();
    return check_exit("test_interrupt");
}
