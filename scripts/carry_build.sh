#!/usr/bin/env bash
# carry_build.sh BUILD_DIR FILE.tar.xz — packs what scripts/gpu_verify.sh runs, to carry a
# build made on one machine (with the CUDA toolkit, no GPU needed) to a GPU machine that has
# the toolkit and the driver but not the build's other libraries: attnbench, the GPU tests,
# the example plugins, and the shared libraries they load from outside the CUDA toolkit and
# the C and C++ runtimes (Google Benchmark's), copied into BUILD_DIR/carried-libs, where
# gpu_verify.sh puts them on the library path. On the GPU machine, at the repository root:
#     tar xJf FILE.tar.xz && bash scripts/gpu_verify.sh BUILD_DIR OUT tests ...
# XZ_OPT sets xz's options (default -9: the binaries share most of their kernels, and xz's
# 64 MB window at -9 finds them again; about a minute).
set -euo pipefail
build=${1:?usage: carry_build.sh BUILD_DIR FILE.tar.xz}
file=$(realpath -m "${2:?usage: carry_build.sh BUILD_DIR FILE.tar.xz}") # before the cd below
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$build/harness/attnbench" ] || { echo "carry_build: no $build/harness/attnbench: build first" >&2; exit 1; }
build_rel=$(realpath --relative-to="$root" "$build")
case $build_rel in ../*) echo "carry_build: $build is outside the repository" >&2; exit 1 ;; esac
# The libraries the programs load that a machine with only the toolkit, the driver and the
# C/C++ runtime lacks: not the runtime's (this list), not CUDA's (libcu*, libnv*).
runtime='^(libc|libm|libdl|libpthread|librt|libutil|libstdc\+\+|libgcc_s|libgomp)\.so|^lib(cu|nv)'
cd "$root"
programs=("$build_rel/harness/attnbench")
for f in "$build_rel"/tests/gpu/test_* "$build_rel"/attn/examples/*.so; do
    [ -f "$f" ] && programs+=("$f") # not the test_*.p folders of their objects
done
rm -rf "$build_rel/carried-libs" # none left from an earlier pack
mkdir -p "$build_rel/carried-libs"
{ ldd "${programs[@]}" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
    while read -r name path; do
        [[ $name =~ $runtime ]] && continue
        cp -L "$path" "$build_rel/carried-libs/$name"
    done
XZ_OPT=${XZ_OPT:--9} tar cJf "$file" "${programs[@]}" "$build_rel/carried-libs"
echo "carry_build: $(du -h "$file" | cut -f1) in $file ($(ls "$build_rel/carried-libs" | tr '\n' ' ')carried)"
