/* merge.h — joining the results files of a sweep's shards into one.
 *
 * Every input must have this attnbench's header, and every row the same
 * suite_hash (the shards of one suite definition) and a shard label of the
 * same split ("2/4" next to "3/4", never "1/3"). Anything else is refused
 * and nothing is written. Otherwise all rows are written, none dropped,
 * and what is wrong with the set is reported: points measured twice,
 * shards with no rows at all, and, given the suite, each missing point.
 */
#ifndef HARNESS_MERGE_H
#define HARNESS_MERGE_H

#include <stdio.h>

#include "results/csv.h"
#include "sweep/shard.h"
#include "sweep/suite.h"

struct merge_options {
    const char *out_path;         /* written whole, then renamed into place */
    const char *const *inputs;    /* may include out_path: merging into it */
    int input_count;
    /* Optional: the suite the rows should be of. Their suite_hash must be
     * its fingerprint (on the rows' backend unless the suite sets one), and
     * each point of `shard` of it must be in the output. */
    const struct suite *suite;
    struct shard_spec shard;      /* {0, 0}: the whole suite */
};

/* Merges, reporting problems to `report` one per line, each naming the file
 * (and line) at fault, then a summary line. Returns 0 when the output holds
 * every point once; 1 when it was written but points are missing or
 * duplicated; 2 when it was refused (unreadable or mismatched inputs, an
 * output that exists but is not an input) and nothing was written. */
int merge_files(const struct merge_options *opt, FILE *report);

/* Checks that the rows `t` read from `path` (none when t->ncols is 0: a
 * new file) may be merged with rows of fingerprint `suite_hash` (its header
 * and every row's suite_hash); `run --gpus` asks before its workers start,
 * not after. 0, or non-zero with a message. */
int merge_check_rows(const char *path, const struct csv_table *t, const char *suite_hash,
                     char *err, size_t err_len);

#endif
