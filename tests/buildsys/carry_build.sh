#!/usr/bin/env bash
# carry_build.sh BUILD_DIR — scripts/carry_build.sh packs attnbench, the GPU tests, the example
# plugins and the libraries from outside CUDA and the C/C++ runtime (Google Benchmark's), and
# what it packs runs from another folder: unpacked elsewhere, attnbench lists the suites with
# only the carried libraries added to the system's (as gpu_verify.sh adds them).
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
XZ_OPT=-0 bash "$root/scripts/carry_build.sh" "$build" "$tmp/carry.tar.xz" >"$tmp/log" 2>&1 ||
    { echo "FAIL: carry_build.sh failed"; cat "$tmp/log"; exit 1; }
rel=$(realpath --relative-to="$root" "$build")
listing=$(tar tJf "$tmp/carry.tar.xz")
for f in "$rel/harness/attnbench" "$rel/attn/examples/libattn_gather_rows.so"; do
    grep -qx "$f" <<<"$listing" || { echo "FAIL: $f not packed"; fail=1; }
done
if ldd "$build/harness/attnbench" | grep -q libbenchmark; then
    grep -q "^$rel/carried-libs/libbenchmark" <<<"$listing" ||
        { echo "FAIL: Google Benchmark's library not packed"; fail=1; }
fi
if grep "\.p/" <<<"$listing" | head -3 | grep .; then
    echo "FAIL: the objects' folders (*.p/) were packed"; fail=1
fi
if grep -E "carried-libs/lib(c|m|stdc\+\+|cudart|cublas)\.so" <<<"$listing"; then
    echo "FAIL: a runtime or CUDA library was packed"; fail=1
fi
mkdir "$tmp/there" && tar xJf "$tmp/carry.tar.xz" -C "$tmp/there"
LD_LIBRARY_PATH=$tmp/there/$rel/carried-libs ATTNBENCH_SUITES=$root/suites \
    "$tmp/there/$rel/harness/attnbench" list >"$tmp/list" 2>&1 ||
    { echo "FAIL: the unpacked attnbench does not run"; cat "$tmp/list"; fail=1; }
[ $fail = 0 ] && echo "ok: $(grep -c . <<<"$listing") files packed; the unpacked attnbench runs"
exit $fail
