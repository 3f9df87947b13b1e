"""attnpeers — what a user would run instead of attnbench: PyTorch versions of
every method of docs/methods.md, timed by the harness's rules into rows of its
results file (docs/measurement.md, "PyTorch peers").

    inputs.py      attnbench's inputs in torch: the counter hash, safetensors files
    reference.py   the definitions in float64, written for clarity (the check's reference)
    methods.py     the peers: eager (chunked), torch.compile, FlexAttention, SDPA
    check.py       a peer against the reference before it is timed
    suite.py       suites and axis flags, as attnbench reads them
    samples.py     how many samples (the stopping rule) and their statistics
    results.py     the results file: columns, rows, --resume and --force
    runner.py      the sweep: points, timers, budget, the command line
"""
