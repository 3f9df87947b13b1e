#!/usr/bin/env python3
"""runs_protocol.py — a model of attend_expert_runs' barrier protocol (kernels/
gathered_attention.cu), run under random interleavings of its warps.

The kernel hands Q stages and run slots between producer warps and consumer warpgroups by
mbarriers waited on by parity. A parity wait is sound only for a waiter that sees every phase
of its barrier; a schedule that lets a waiter skip phases can take a stale phase for its own,
a bug no output check at one size need show. This model keeps the protocol's counts and
waits (one step of a warp is one arrive or one poll), runs STAGES producers and CONSUMERS
warpgroups over random runs of items with random interleavings, and fails when a warpgroup
reads a stage or slot holding another item or run than its own, at the start or the end of
its reading, or when every warp waits (deadlock).

    runs_protocol.py [SEEDS]   exit 0 when every seed passes, 1 otherwise

It checks the kernel's two shapes (d = 128: two warpgroups on both halves of every item;
d = 64: three taking the halves round-robin, every warpgroup waiting for and releasing every
item's stage) and, as a control that the model can fail, the three-warpgroup schedule in
which a warpgroup skips the items it takes no half of (NOTES.md "mita" v32: the bug this
model found in the first version of it)."""
import random
import sys


class Barrier:
    """An mbarrier: `count` arrivals complete a phase; try_wait.parity(P) passes once the
    phase of parity P has completed, i.e. while the completed phases' parity differs from P."""

    def __init__(self, count):
        self.count, self.pending, self.phases = count, count, 0

    def arrive(self, n=1):
        self.pending -= n
        assert self.pending >= 0, "more arrivals than the barrier's count"
        if self.pending == 0:
            self.phases += 1
            self.pending = self.count

    def passed(self, parity):
        return (self.phases & 1) != parity


def simulate(seed, n_items, consumers, skip, stages=4, releases=4):
    rnd = random.Random(seed)
    longest = rnd.choice([1, 2, 4, 16])
    runs = []
    while len(runs) < n_items:
        runs += [len(set(runs))] * rnd.randint(1, longest)
    runs = runs[:n_items]
    starts = [i == 0 or runs[i] != runs[i - 1] for i in range(n_items)]
    full = [Barrier(32) for _ in range(stages)]             # a producer warp's lanes
    empty = [Barrier(128 * (2 if skip else consumers)) for _ in range(stages)]
    kv_full = [Barrier(32) for _ in range(2)]
    kv_empty = [Barrier(4 * consumers) for _ in range(releases)]  # the consumer warps
    stage_item, slot_run = [None] * stages, [None, None]

    def producer(w):
        for seq in range(w, n_items, stages):
            while not empty[w].passed(((seq // stages) & 1) ^ 1):
                yield
            run, slot = runs[seq], runs[seq] & 1
            if starts[seq]:
                if run >= 2:
                    while not kv_empty[(run - 2) % releases].passed(((run - 2) // releases) & 1):
                        yield
                slot_run[slot] = run
            stage_item[w] = seq
            yield
            if starts[seq]:
                kv_full[slot].arrive(32)
            full[w].arrive(32)

    def consumer(c):
        waited = -1  # skip: the run whose slot this warpgroup last waited for
        for seq in range(n_items):
            run, st, slot = runs[seq], seq % stages, runs[seq] & 1
            half = c if consumers == 2 else (c + seq) % 3
            if starts[seq] and run > 0:
                kv_empty[(run - 1) % releases].arrive(4)
            if skip:
                if half > 1:
                    continue
                if waited != run:
                    while not kv_full[slot].passed((run >> 1) & 1):
                        yield
                    waited = run
            elif starts[seq]:
                while not kv_full[slot].passed((run >> 1) & 1):
                    yield
            while not full[st].passed((seq // stages) & 1):
                yield
            if half > 1:  # passes it: released at once
                empty[st].arrive(128)
                continue
            for _ in range(1 + rnd.randint(0, 3)):  # reading the stage and the slot
                assert stage_item[st] == seq, "item %d read stage %d holding item %s" % (
                    seq, st, stage_item[st])
                assert slot_run[slot] == run, "item %d of run %d read slot %d holding run %s" % (
                    seq, run, slot, slot_run[slot])
                yield
            empty[st].arrive(128)

    warps = [producer(w) for w in range(stages)] + [consumer(c) for c in range(consumers)]
    live, idle = list(range(len(warps))), 0
    while live:
        i = rnd.choice(live)
        try:
            next(warps[i])
            idle += 1
        except StopIteration:
            live.remove(i)
            idle = 0
        if idle > 100000:
            raise AssertionError("every warp waits: deadlock")


def failures(seeds, consumers, skip):
    bad = []
    for seed in range(seeds):
        try:
            simulate(seed, 160, consumers, skip)
        except AssertionError as e:
            bad.append("seed %d: %s" % (seed, e))
    return bad


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    ok = True
    for consumers, skip in ((2, False), (3, False)):
        bad = failures(seeds, consumers, skip)
        print("%d warpgroups: %d of %d seeds failed%s" % (
            consumers, len(bad), seeds, (": " + bad[0]) if bad else ""))
        ok = ok and not bad
    control = failures(seeds, 3, True)
    print("control, 3 warpgroups skipping items: %d of %d seeds failed (must be > 0)" % (
        len(control), seeds))
    ok = ok and bool(control)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
