#!/usr/bin/env bash
# gpu_verify_list.sh BUILD_DIR — scripts/gpu_verify.sh's `tests` step, which runs
# the GPU tests on a lent machine without meson, runs every test of meson's suite
# `gpu` that is a program of tests/gpu (gpu-NAME), and nothing else: its list
# (list-tests) against the build's own (meson-info/intro-tests.json).
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
intro=$build/meson-info/intro-tests.json
if ! command -v python3 >/dev/null || [ ! -s "$intro" ]; then
    echo "no python3 or no $intro: skipped"
    exit 77
fi
want=$(python3 - "$intro" <<'PY'
import json, sys
for t in json.load(open(sys.argv[1])):
    if "attnbench:gpu" in t["suite"] and t["name"].startswith("gpu-"):
        print(t["name"])
PY
)
got=$(bash "$root/scripts/gpu_verify.sh" "$build" "$(mktemp -d)" list-tests)
if [ "$(sort <<<"$want")" = "$(sort <<<"$got")" ]; then
    echo "ok: gpu_verify.sh runs the $(wc -l <<<"$want") GPU tests of the build"
    exit 0
fi
echo "FAIL: gpu_verify.sh's tests differ from meson's suite gpu (tests/gpu/meson.build):"
comm -23 <(sort <<<"$want") <(sort <<<"$got") | sed 's/^/  only in meson: /'
comm -13 <(sort <<<"$want") <(sort <<<"$got") | sed 's/^/  only in gpu_verify.sh: /'
exit 1
