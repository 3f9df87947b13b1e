#!/usr/bin/env python3
"""ncu_run_metadata.py DETAILS RUN_CSV: gives every row of an Nsight Compute page exported as
CSV (DETAILS, rewritten in place) the metadata of the attnbench run that ncu profiled: the
device, git_rev and status of RUN_CSV's row (gpu_verify.sh's ncu step writes both), as three
columns in front, so that the page's rows carry it as every result row does. Without a row
in RUN_CSV (the run stopped before writing one) the status says so and the rest is empty."""
import csv
import sys

META = ("device", "git_rev", "status")


def run_metadata(path):
    try:
        with open(path, newline="") as f:
            row = next(csv.DictReader(f), None)
    except OSError:
        row = None
    if row is None:
        return ["", "", "error: the profiled run wrote no row"]
    return [row.get(k, "") for k in META]


def main():
    details, run = sys.argv[1], sys.argv[2]
    meta = run_metadata(run)
    with open(details, newline="") as f:
        rows = list(csv.reader(f))
    with open(details, "w", newline="") as f:
        # Quoted only where a field needs it: the header's names stay bare, as in every other
        # results file, for readers that take the first line as plain names.
        out = csv.writer(f, lineterminator="\n")
        for i, row in enumerate(rows):
            out.writerow((list(META) if i == 0 else meta) + row)


if __name__ == "__main__":
    main()
