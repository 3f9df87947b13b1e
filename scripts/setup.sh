#!/usr/bin/env bash
# setup.sh — installs what a fresh Debian/Ubuntu machine lacks and builds
# attnbench into build/. Sourced by main.sh and test.sh; safe to run twice.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# nvcc is optional (a CPU-only build without it); look where CUDA installs.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi

need=()
command -v meson >/dev/null || need+=(meson)
command -v ninja >/dev/null || need+=(ninja-build)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(g++)
pkg-config --exists benchmark 2>/dev/null || need+=(libbenchmark-dev)
if [ ${#need[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${need[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
        [ " ${need[*]} " = " gnuplot-nox " ] || exit 1   # gnuplot only draws figures
    fi
fi

# The build's progress goes to stderr: Meson's configuration and summary,
# then a line per Ninja step ([n/N]), so that a long first build is seen to
# move. main.sh's and test.sh's own output stays on stdout.
if [ ! -f build/build.ninja ]; then
    if command -v nvcc >/dev/null; then
        cat >&2 <<'EOF'
setup: first build into build/: nvcc compiles every kernel, which takes minutes
setup: (also on a machine without a GPU). For a CPU-only build instead: Ctrl-C,
setup: `meson configure build -Dcuda=disabled`, then run this again.
EOF
    else
        echo "setup: first build into build/: no nvcc, so the CPU backend only" >&2
    fi
    native=()
    # Meson before 1.4 gives nvcc no dependency-file flags, so that an edited
    # kernels/*.cuh would rebuild nothing: nvcc through scripts/nvcc-depfile.
    if command -v nvcc >/dev/null &&
        [ "$(printf '%s\n' 1.4 "$(meson --version)" | sort -V | head -1)" != 1.4 ]; then
        mkdir -p build
        printf "[binaries]\ncuda = '%s'\n" "$root/scripts/nvcc-depfile" >build/nvcc-depfile.ini
        native=(--native-file build/nvcc-depfile.ini)
    fi
    meson setup build --buildtype=release "${native[@]}" >&2
fi
ninja -C build >&2
