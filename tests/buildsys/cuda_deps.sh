#!/usr/bin/env bash
# cuda_deps.sh BUILD_DIR — Ninja knows the headers of the CUDA sources, so that
# an edited kernels/hopper.cuh rebuilds every kernel that includes it (else the
# kernels measured are not the code that was edited). Meson before 1.4 gives
# nvcc no dependency-file flags; scripts/setup.sh then configures build/ with
# scripts/nvcc-depfile (README, "Building").
build=$1
obj=$(ninja -C "$build" -t targets all | grep -o '^[^:]*kernels_flash_attn\.cu\.o' | head -1)
if [ -z "$obj" ]; then
    echo "no CUDA objects in $build: skipped"
    exit 77
fi
if ninja -C "$build" -t deps "$obj" | grep -q 'kernels/hopper\.cuh$'; then
    echo "ok: $obj depends on kernels/hopper.cuh"
    exit 0
fi
echo "FAIL: Ninja knows no header of $obj: an edited kernels/*.cuh would rebuild nothing."
echo "Meson $(meson --version 2>/dev/null) before 1.4 needs nvcc through scripts/nvcc-depfile:"
echo "  rm -rf $build && scripts/setup.sh   (or meson setup --native-file with"
echo "  [binaries] cuda = '$(cd "$(dirname "$0")/../.." && pwd)/scripts/nvcc-depfile')"
exit 1
