#!/usr/bin/env bash
# sanitizers.sh TEST [ARGS...] — meson test's --wrapper in a build with
# AddressSanitizer and UndefinedBehaviorSanitizer (scripts/test.sh): runs the
# test with every report of its own process and of any it starts (the
# workers of attnbench, the e2e cases' runs, whose stderr they keep) going
# to a folder of its own, then fails the test on any report and prints it.
set -u
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:log_path=$reports/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
"$@"
rc=$?
if [ -n "$(ls -A "$reports")" ]; then
    for report in "$reports"/*; do
        echo "sanitizers: $(basename "$report") of $*:"
        cat "$report"
    done >&2
    exit 1
fi
exit $rc
