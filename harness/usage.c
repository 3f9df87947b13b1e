/* usage.c — the command line's help (see usage.h). */
#include "usage.h"

#include <string.h>

#include "config.h"
#include "core/axes.h"
#include "git_rev.h"

/* What a command's help prints after its own text. */
enum usage_sections {
    USAGE_AXES = 1,      /* the sweep's axis flags, from AXES[] */
    USAGE_SETTINGS = 2,  /* the suite's settings as flags */
};

static const struct command_usage {
    const char *name;
    const char *args, *summary;  /* the overview's line */
    unsigned sections;
    const char *text;       /* usage, what it does, its own flags */
    const char *exit_status;
} COMMANDS[] = {
    {"run", "[SUITE] [flags]", "run a sweep, a CSV row per point",
     USAGE_AXES | USAGE_SETTINGS,
     "usage: attnbench run [SUITE] [flags]\n"
     "\n"
     "Runs every point of SUITE (a name in suites/ or a path; without one, the\n"
     "defaults of README's \"Suite files\", a suite named default), each in a\n"
     "child process of its own, and writes a CSV row per point the moment it is\n"
     "measured; a table on stdout, progress on stderr.\n"
     "\n"
     "flags:\n"
     "  --out FILE       the results CSV (default SUITE-BACKEND.csv; with --shard I/N,\n"
     "                   SUITE-BACKEND-shardIofN.csv)\n"
     "  --resume         skip the points already in --out (a last row cut short is\n"
     "                   removed and its point measured again)\n"
     "  --force          start an --out that holds rows afresh (its rows are deleted);\n"
     "                   without it or --resume, such a file is refused\n"
     "  --json FILE      also every row and sample, and the environment, as JSON\n"
     "                   (not with --gpus)\n"
     "  --discard-throttled  leave out samples taken while the GPU throttled\n"
     "  --no-isolate     run points in this process (for debuggers and profilers)\n"
     "  --quiet          no table on stdout (progress still goes to stderr)\n"
     "  --plugin SO      load methods and gather versions from a shared object\n"
     "                   (repeatable)\n"
     "  --profile        after timing each point, one run under the hardware counters\n"
     "                   (CUPTI): DRAM and L2 bytes, FLOPs, per kernel and step\n"
     "                   (OUT.steps.csv)\n"
     "  --ceilings FILE  with --profile: the roofs of the roofline columns, from\n"
     "                   attnbench ceilings\n"
     "  --verify         after timing each point, its output against the double\n"
     "                   reference, on 32 query rows of every head: columns verify,\n"
     "                   verify_error, verify_s; a wrong output is a row wrong:...\n"
     "  --shard I/N      only shard I of N, split by estimated cost\n"
     "  --gpus all|0,1   a worker per GPU, then one merged results file\n",
     "0 when every row is ok, oom or skipped:...; 1 when a row is invalid:...,\n"
     "error:..., timeout or wrong:... (--verify); 130, 143 or 129 when SIGINT,\n"
     "SIGTERM or SIGHUP stopped it; 2 when the sweep cannot start (a malformed\n"
     "suite, an unknown method or flag, an unwritable output file, one another run\n"
     "holds, one that holds rows without --resume or --force, a corrupt file given\n"
     "to --resume) or a row\n"
     "could not be written"},
    {"list", "[SUITE]", "methods, suites, devices; or SUITE's points",
     USAGE_AXES | USAGE_SETTINGS,
     "usage: attnbench list [SUITE] [--points] [--shard I/N] [axis flags]\n"
     "                      [--plugin SO]\n"
     "\n"
     "Without SUITE: the methods and the gather versions (with --plugin, the\n"
     "plugin's too), the suites and the devices. With SUITE: the points it expands\n"
     "to, the axis flags applied.\n"
     "\n"
     "flags:\n"
     "  --points         the points as run runs them (resolved, deduplicated), with\n"
     "                   their estimated cost (without SUITE: the default suite)\n"
     "  --shard I/N      only shard I of N's points, with --points' columns\n"
     "  --plugin SO      load methods and gather versions from a shared object\n"
     "                   (repeatable)\n",
     "0; 2 on an unknown suite, flag or method"},
    {"check", "[flags]", "methods against the double reference", 0,
     "usage: attnbench check [--methods LIST] [--dtype LIST] [--d LIST]\n"
     "                       [--backend cpu|cuda] [--seed N] [--plugin SO]\n"
     "\n"
     "Runs each selected method, variant and dtype at awkward small shapes against\n"
     "the double-precision reference, within the bounds of docs/correctness.md\n"
     "(fp32 1e-4, fp16 5e-3, bf16 2e-2); top-k and MiTA check the selection first.\n"
     "A line per case, then \"N passed, N failed\".\n"
     "\n"
     "flags:\n"
     "  --methods LIST   default: every method of the backend, a plugin's too (each\n"
     "                   against the definition it computes; one of none is left out)\n"
     "  --dtype LIST     default: fp32 on the cpu backend, all three on cuda\n"
     "  --d LIST         head dimensions (default 64)\n"
     "  --backend cpu|cuda   default: cuda when a GPU is usable, else cpu\n"
     "  --seed N         the inputs' seed (default: from the clock; printed)\n"
     "  --plugin SO      load methods and gather versions from a shared object\n"
     "                   (repeatable)\n",
     "0 when every case passed; 1 when one failed; 2 when no method was selected\n"
     "or the backend is not usable"},
    {"plot", "RESULTS.csv...", "figures (PNG, SVG) of results files", 0,
     "usage: attnbench plot RESULTS.csv [MORE.csv ...] [--out DIR] [--ceilings FILE]\n"
     "                      [--baseline fastest|flash] [--peers-at N,N...]\n"
     "\n"
     "Draws the figures of one or more results files with gnuplot, as PNG and SVG:\n"
     "time, throughput and speedup against N, the roofline, the gather kernels'\n"
     "bandwidth, MiTA's steps (from RESULTS.steps.csv). Where files repeat a\n"
     "point, the newest row is drawn.\n"
     "\n"
     "flags:\n"
     "  --out DIR        where the figures go (default: figures)\n"
     "  --ceilings FILE  measured ceilings (attnbench ceilings) for the roofline and\n"
     "                   the gather figure; default: nominal H100 SXM5 figures\n"
     "  --baseline fastest|flash  what the speedup figure divides by: the fastest\n"
     "                   full attention of each point in the files, attnbench's or a\n"
     "                   peer's (default), or attnbench's own full/flash\n"
     "  --peers-at N,N...  peers.md (attnbench against its fastest peer, written\n"
     "                   where the files hold peers' rows) begins with a table of\n"
     "                   every series at these N side by side (2^14,2^20, say)\n",
     "0 when every figure was drawn or skipped with a note; 1 when gnuplot failed\n"
     "on a figure; 2 on a bad command line, an unusable results or ceilings file,\n"
     "or no gnuplot"},
    {"merge", "OUT.csv IN.csv...", "join the results files of shards", 0,
     "usage: attnbench merge OUT.csv IN.csv... [--suite SUITE [axis flags]]\n"
     "                       [--plugin SO]\n"
     "\n"
     "Writes every row of the inputs to OUT.csv. Refuses, writing nothing, inputs\n"
     "whose headers differ, rows of another suite definition or another split, and\n"
     "an OUT.csv that exists and is not an input (name it as an input to merge\n"
     "into it).\n"
     "\n"
     "flags:\n"
     "  --suite SUITE    write the rows in the suite's order and name each of its\n"
     "                   points that no row has; the run's axis flags (attnbench run\n"
     "                   --help) resolve it as the run did\n"
     "  --plugin SO      load methods and gather versions from a shared object\n"
     "                   (repeatable)\n",
     "0 when every point is there once; 1 when a point is in more than one row, a\n"
     "shard has no rows, or (with --suite) a point is missing; 2 when refused"},
    {"compare", "BASE.csv NEW.csv", "faster, slower, same or unjudged, per point",
     0,
     "usage: attnbench compare BASE.csv NEW.csv [--threshold P] [--min-effect P]\n"
     "                         [--alpha A] [--allow-unjudged]\n"
     "\n"
     "Matches the points of two runs and judges each from its samples: slower or\n"
     "faster when a two-sided Mann-Whitney U test gives p < alpha and the medians\n"
     "differ by more than --min-effect, else the same within noise. Where the\n"
     "sample counts cannot reach alpha at all (3 against 3: p >= 0.1), by the\n"
     "ranges: slower or faster when they stand apart by more than --min-effect,\n"
     "else unjudged; so are points without samples. Each line gives its reason.\n"
     "\n"
     "flags:\n"
     "  --threshold P    a gate: fail when a point is slower by more than P (5%),\n"
     "                   a point ok in BASE is not in NEW, a point is unjudged, or\n"
     "                   a point ran on another device (GPU or CPU model)\n"
     "  --min-effect P   the change of the median that counts (default 2%)\n"
     "  --alpha A        the test's level (default 0.05)\n"
     "  --allow-unjudged unjudged points pass the gate\n",
     "0; 1 when the gate failed; 2 when a file cannot be read or lacks a column,\n"
     "or the runs share no point"},
    {"slurm", "[SUITE] [flags]", "a Slurm job array of shards, and a merge",
     USAGE_AXES | USAGE_SETTINGS,
     "usage: attnbench slurm [SUITE] [axis flags] [flags]\n"
     "\n"
     "Writes a Slurm job into DIR: the suite as resolved, a job array whose task I\n"
     "runs shard I/N (resumed when submitted again), a merge job that joins the\n"
     "shards and names any point missing, and submit.sh, which submits both.\n"
     "\n"
     "flags:\n"
     "  --shards N          array tasks (default 4)\n"
     "  --partition P       the job's partition (default: the cluster's)\n"
     "  --gpus-per-task G   default 1 on the cuda backend, 0 on the cpu\n"
     "  --time T            each task's time limit (default: the partition's)\n"
     "  --account A         the account charged\n"
     "  --dir DIR           where the job is written (default SUITE-slurm)\n"
     "  --plugin SO         a plugin every task loads (repeatable)\n"
     "  --verify            every task runs with run --verify\n"
     "  --profile           every task runs with run --profile (its steps file,\n"
     "                      shard-I-of-N.steps.csv, stays its own: merge joins results)\n"
     "  --ceilings FILE     and --ceilings FILE (from attnbench ceilings on the\n"
     "                      cluster's GPU), by its absolute path\n",
     "0 when the job was written; 2 on a bad flag or suite, or a DIR that cannot\n"
     "be written"},
    {"ceilings", "[--backend cpu|cuda] [--out FILE]", "this device's measured ceilings", 0,
     "usage: attnbench ceilings [--backend cpu|cuda] [--out FILE]\n"
     "\n"
     "Measures the device's ceilings, each the median of 10 runs: on the GPU (the\n"
     "default where there is one) DRAM copy and L2 read bandwidth, bf16 and fp16\n"
     "tensor-core and fp32 FLOP/s; on the CPU (without a GPU, or --backend cpu)\n"
     "its memory bandwidth and FLOP/s. A row each in FILE (default\n"
     "ceilings.csv), for run --profile --ceilings and plot --ceilings.\n",
     "0 when all were measured; 1 when one failed (its row says why); 2 on a bad\n"
     "flag, or with --backend cuda without a usable GPU or in a build without CUDA"},
    {"inputs", "[flags] --out FILE", "one point's Q, K, V as a safetensors file", 0,
     "usage: attnbench inputs [--B N] [--H N] [--seqlen N] [--d N] [--dtype T]\n"
     "                        [--seed N] [--inputs NAME] [--out FILE]\n"
     "\n"
     "Writes the Q, K and V that run feeds the methods at one point, as tensors q,\n"
     "k and v shaped [B,H,N,d] in the point's dtype, to a safetensors file (for a\n"
     "peer to run on the same inputs; --inputs file:FILE reads it back). Each flag\n"
     "takes one value; the defaults are run's (B=1 H=8 d=64 fp32, seed 1, iid) but\n"
     "for --seqlen, which must be given.\n"
     "\n"
     "flags:\n"
     "  --B N  --H N  --seqlen N  --d N   the shape [B,H,N,d]\n"
     "  --dtype fp32|fp16|bf16            the tensors' dtype (safetensors F32, F16, BF16)\n"
     "  --seed N                          the inputs' seed\n"
     "  --inputs NAME    iid, clustered, image, rising or file:PATH (docs/inputs.md)\n"
     "  --out FILE       the file written (default inputs.safetensors)\n",
     "0 when the file was written; 2 on a bad flag, a flag with more than one value,\n"
     "inputs that cannot be read, or a file that cannot be written"},
};

#define COMMAND_COUNT (sizeof COMMANDS / sizeof *COMMANDS)

void usage_overview(FILE *f)
{
    fprintf(f, "attnbench %s (git %s) — benchmarks of efficient attention\n\nusage:\n",
            ATTN_VERSION, ATTN_GIT_REV);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        char call[64];
        snprintf(call, sizeof call, "attnbench %s %s", COMMANDS[i].name, COMMANDS[i].args);
        fprintf(f, "  %-34s %s\n", call, COMMANDS[i].summary);
    }
    fprintf(f, "  %-34s %s\n", "attnbench help [COMMAND]", "this text, or COMMAND's --help");
    fprintf(f, "\n"
               "attnbench COMMAND --help (or -h): the command's arguments, flags and exit "
               "status.\n"
               "attnbench --version: the version and the git revision of this build.\n");
}

static void print_axes(FILE *f)
{
    fprintf(f, "\nsweep axes (override the suite; lists '64,128' or '64 128', doubling "
               "ranges\n'2^10..2^14'):\n"
               "  --methods LIST      e.g. full,full:naive,mita,mita:route_only\n");
    for (int a = 0; a < AXIS_COUNT; a++) {
        char flag[40];
        snprintf(flag, sizeof flag, "--%s LIST", AXES[a].key);
        fprintf(f, "  %-19s %s\n", flag, AXES[a].meaning);
    }
    fputs("  --zip GROUPS        axes that take their i-th values together, not every\n"
          "                      combination: 'seqlen+B H+d' (equal-length lists)\n",
          f);
}

static void print_settings(FILE *f)
{
    fputs("\nsettings (override the suite):\n"
          "  --backend cpu|cuda   default: cuda when a GPU is usable, else cpu\n"
          "  --reps N  --warmup N timed samples (at most 200) and untimed runs per point\n"
          "  --max-noise P%  --min-samples N  --max-samples N  --min-time SECONDS\n"
          "                       the stopping rule: sample until the median is known to\n"
          "                       P%, after N samples and SECONDS at least, N at most\n"
          "  --timing events|graph  one forward between events (cold L2), or a CUDA\n"
          "                       graph of forwards (warm, no launch gaps: short points)\n"
          "  --budget SECONDS     per point: a point predicted to take longer takes fewer\n"
          "                       samples (3 at least), or is skipped:budget\n"
          "  --timeout SECONDS    a point still running then is a timeout row, its worker\n"
          "                       killed (0: none)\n"
          "  --seed N             the inputs' seed\n",
          f);
}

int usage_command(FILE *f, const char *command)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        const struct command_usage *u = &COMMANDS[i];
        if (strcmp(u->name, command) != 0) continue;
        fputs(u->text, f);
        if (u->sections & USAGE_AXES) print_axes(f);
        if (u->sections & USAGE_SETTINGS) print_settings(f);
        fprintf(f, "\nexit status:\n  ");
        for (const char *c = u->exit_status; *c; c++) {
            fputc(*c, f);
            if (*c == '\n') fputs("  ", f);
        }
        fprintf(f, ".\n");
        return 0;
    }
    return -1;
}

int usage_unknown_command(const char *command)
{
    fprintf(stderr, "attnbench: unknown command '%s' (one of ", command);
    for (size_t i = 0; i < COMMAND_COUNT; i++) fprintf(stderr, "%s, ", COMMANDS[i].name);
    fprintf(stderr, "help)\n");
    return 2;
}
