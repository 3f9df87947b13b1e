#!/usr/bin/env python3
"""torch_peers.py — PyTorch peers of every attnbench method, timed into attnbench's CSV.

    python3 suites/peers/torch_peers.py seqlen --out out/seqlen-torch.csv
    build/harness/attnbench plot out/seqlen-cuda.csv out/seqlen-torch.csv

Each method of docs/methods.md as a researcher would write it in PyTorch
(torch-eager), the same code under torch.compile (torch-compile), and for full
attention FlexAttention (torch-flex) and SDPA's backends (torch-sdpa-flash,
-cudnn, -efficient); each checked against the float64 definitions before it is
timed by attnbench's rules. The code is the package attnpeers/ beside this file
(its __init__ lists the modules); docs/measurement.md, "PyTorch peers", says
what is timed and how.

Exit status (as `attnbench run`): 0 when every row is ok, oom or skipped; 1
when a row is invalid or an error; 2 when the sweep cannot start (no PyTorch,
no GPU, a malformed suite, a foreign --out file, one with rows without --resume
or --force).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from attnpeers.runner import main  # noqa: E402 — the package is found through the path above

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
