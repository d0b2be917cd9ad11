"""Where two local workers lose against one: the batches' timeline, and what two processes cost
each other on this machine.

Issue 16 asks 2 local workers for 90% of linear scaling (``batched_sweep.py`` measures it). This
script says where the rest goes, for a batched sweep of 1,000-customer markets x 104 steps
(``batched_sweep.spec``):

1. **the pool's timeline**: the sweep on 1 worker and on 2, every batch timed inside its worker
   (start, end, user and system CPU, page faults, involuntary context switches): when the
   workers start and end, how long they are busy, and the CPU they spend on the same batches;
2. **two unrelated processes**: the same batches run serially in one process alone, then in two
   processes at once (each its own sweep): the CPU each loses to the other whatever the pool
   does (shared caches, memory and the host's clocks on two vCPUs).

If (2) is as large as the extra CPU in (1), no scheduling in the pool can reach 90%; what is left
is for fewer bytes and fewer instructions a market.

Usage::

    .venv/bin/python experiments/benchmarks/two_workers.py --runs 640 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from batched_sweep import WARM_UP, at_least, load, spec  # noqa: E402

_LOG = Path(tempfile.gettempdir()) / f"two_workers.{os.getpid()}"  # a line a batch, every worker
_PLAIN = []  # the package's run_batch


def timed(batch):
    """``sim.sweep.worker.run_batch``, timed; module-level, so the pool can send it by name
    (the workers are forked from this process and have it)."""
    u0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    out = _PLAIN[0](batch)
    u1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    row = [os.getpid(), t0, t1, u1.ru_utime - u0.ru_utime, u1.ru_stime - u0.ru_stime]
    row += [u1.ru_minflt - u0.ru_minflt, u1.ru_nivcsw - u0.ru_nivcsw]
    with open(_LOG, "a") as f:
        f.write(json.dumps(row) + "\n")
    return out


def timeline(runs: int, workers: int) -> dict:
    """In this process: a warm-up, then the sweep with every batch timed in its worker."""
    import sim.sweep as sw
    import sim.sweep.runner as runner
    import sim.sweep.worker as worker

    log = _LOG
    _PLAIN.append(worker.run_batch)
    with tempfile.TemporaryDirectory() as tmp:  # load (or compile) the kernels first
        sw.run(spec(*WARM_UP), Path(tmp) / "w", executor="serial")
    runner.run_batch = timed
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.time(), time.process_time()
        sw.run(spec(runs, 1000, 104), Path(tmp) / "out", executor="local", workers=workers)
        wall, main_cpu = time.time() - t0, time.process_time() - c0
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    per = {}
    for pid in sorted({r[0] for r in rows}):
        mine = sorted(r[1:] for r in rows if r[0] == pid)
        per[pid] = {
            "batches": len(mine),
            "first": mine[0][0] - t0,
            "end": mine[-1][1] - t0,
            "busy": sum(b[1] - b[0] for b in mine),
            "user": sum(b[2] for b in mine),
            "sys": sum(b[3] for b in mine),
            "faults": sum(b[4] for b in mine),
            "switches": sum(b[5] for b in mine),
        }
    return {"wall": wall, "main_cpu": main_cpu, "workers": list(per.values())}


SERIAL = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from batched_sweep import WARM_UP, spec
import sim.sweep as sw
from sim.jit import use_threads
use_threads(1)
with tempfile.TemporaryDirectory() as tmp:
    sw.run(spec(*WARM_UP), Path(tmp) / "w", executor="serial")
print("ready", flush=True)
sys.stdin.readline()
with tempfile.TemporaryDirectory() as tmp:
    t, c = time.perf_counter(), time.process_time()
    sw.run(spec(int(sys.argv[1]), 1000, 104), Path(tmp) / "out", executor="serial")
    print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c}))
"""


def serial(runs: int, processes: int) -> list[dict]:
    """``processes`` serial sweeps of ``runs`` runs each, started together once all are warm."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERIAL, str(runs), str(HERE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(processes)
    ]
    for p in procs:
        if not p.stdout.readline():  # it ended before its warm-up was done
            for q in procs:
                q.kill()
            raise RuntimeError(f"a serial sweep failed before it was ready:\n{p.stderr.read()}")
    for p in procs:
        p.stdin.write("\n")
        p.stdin.flush()
    done = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            raise RuntimeError(f"a serial sweep failed (exit {p.returncode}):\n{err}")
        done.append(json.loads(out.strip().splitlines()[-1]))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=at_least(4), default=640, help="runs of the pool's sweep")
    parser.add_argument("--rounds", type=at_least(1), default=3)
    parser.add_argument("--timeline", type=int, help=argparse.SUPPRESS)  # the measured child
    args = parser.parse_args()
    if args.timeline:
        print(json.dumps(timeline(args.runs, args.timeline)))
        return
    print(f"{os.cpu_count()} cores, load {load()}; {args.runs} runs of 1,000 customers x 104")
    eff, extra, alone_cpu, paired_cpu = [], [], [], []
    for r in range(args.rounds):
        got = {}
        for w in (1, 2):
            cmd = [sys.executable, __file__, "--runs", str(args.runs), "--timeline", str(w)]
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
            got[w] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"round {r + 1}, {w} worker(s): wall {got[w]['wall']:.2f} s, main CPU "
                  f"{got[w]['main_cpu']:.2f} s (load {load()})")  # fmt: skip
            for k in got[w]["workers"]:
                print(f"    {k['batches']:3d} batches: first at {k['first']:.2f} s, end at "
                      f"{k['end']:.2f}, busy {k['busy']:.2f}, user {k['user']:.2f}, system "
                      f"{k['sys']:.2f}, page faults {k['faults']}, involuntary switches "
                      f"{k['switches']}")  # fmt: skip
        eff.append(got[1]["wall"] / (2 * got[2]["wall"]))
        user = [sum(k["user"] for k in got[w]["workers"]) for w in (1, 2)]
        extra.append(user[1] / user[0] - 1)
        half = args.runs // 2  # one worker's share, serially, alone and beside another
        alone, paired = serial(half, 1), serial(half, 2)
        alone_cpu.append(alone[0]["cpu"])
        paired_cpu.append(median(p["cpu"] for p in paired))
        both = ", ".join(f"{p['cpu']:.2f}" for p in paired)
        print(f"  {half} runs serially: alone {alone[0]['cpu']:.2f} s CPU, two at once {both} s "
              f"(load {load()})")  # fmt: skip
    print()
    print(f"2 workers against 1 (wall): {', '.join(f'{e:.0%}' for e in eff)}; median "
          f"{median(eff):.0%}")  # fmt: skip
    print(f"the workers' user CPU, 2 against 1: {', '.join(f'{x:+.0%}' for x in extra)}")
    lost = ", ".join(f"{p / a - 1:+.0%}" for a, p in zip(alone_cpu, paired_cpu, strict=True))
    print(f"two unrelated processes, CPU each against alone: {lost}")


if __name__ == "__main__":
    main()
