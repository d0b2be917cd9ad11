"""Many small markets: the batched sweep against the sweep code before issue 16, in one run.

Issue 16's targets for sweeps of small markets, measured side by side on this machine:

- runs per second at 1,000 customers x 104 steps, at least 5x the earlier code's, on one worker
  and on two (``sim.sweep.run(..., executor="local")``);
- 2 local workers at least 90% of linear scaling, from the wall time of the same total work
  (``wall(1 worker) / (2 * wall(2 workers))``, pair by pair), with the workers' CPU time of
  the two setups beside it (what a second worker adds: its start), at ``--runs`` runs of 104
  steps and at ``--scaling-runs`` (default 640: a sweep of a few seconds, whose fixed parts
  weigh less), each the median of ``--scaling-pairs`` pairs (default 9; the ``--rounds`` pairs
  of the comparison count among those at ``--runs``) run one after the other, with their
  quartiles and how many pairs reached 90%; and on the long sweep (``--long-runs`` x 520 steps,
  the median of ``--long-pairs`` pairs, default 3: a pair takes about a minute). One pair is
  not a measurement here: a sweep of 1.6 s on one worker and 0.9 s on two moves by 10-20% from
  one minute to the next on this shared machine (4 December 2026, nine pairs at 160 runs, load
  0.8-1.2: 71 to 95%), so two or three pairs gave medians 15 points apart from one hour to the
  next; one pair of the long sweep gave 100% at 16:53 and 82% at 17:15, when the second worker
  took 17% more CPU for the same runs;
- 10,000 runs of 1,000 customers x 520 steps in at most 10 minutes on all local cores
  (measured on ``--long-runs`` runs of 520 steps, the median of the long pairs' two-worker
  sweeps, and scaled to 10,000, or all of them with ``--long-runs 10000``);
- memory bounded whatever the number of runs: the largest resident size of the sweep's worker
  processes in two sweeps on 2 workers whose batches are all at the cap
  (``sim.sweep.worker.BATCH_CUSTOMERS`` customers: 131 markets of 1,000 customers), 4 and 16
  batches a worker (1,048 and 4,192 runs; 8 and 32 batches of 65 markets until the cap doubled
  on 6 December 2026), within 1.25x of each other. A worker holds one
  batch's markets and results, so its peak does not grow with the runs; it creeps up a little
  as the heap fragments (4 December 2026: 263 MB after 2 batches, 354 after 8, 392 after 32, 403
  after 64). The negative control: with the Mesa leak back (``sim.sweep.worker.release`` a
  no-op, so a worker keeps every market) the two peaks were 438 and 1,125 MB. Below the cap a
  batch, and so the peak, grows with the runs (160 runs: batches of 80 markets); the long
  sweep's peak (520 steps, more rows a batch) is printed beside them.

"Before" is the sweep code of a git revision (``--baseline``, default 8c0ab6d, main before issue
16) extracted with ``git archive`` into ``~/.cache/cxsim-bench/<commit>``, or a source tree
(``--baseline-path /work/old-main``), run in a subprocess with that folder first on
``PYTHONPATH`` (its workers inherit it), with this checkout's virtualenv. Every measurement runs
in its own process, after a warm-up sweep that loads (or first compiles) the kernels; the figures
are wall times of ``sim.sweep.run`` including starting the workers (this checkout's forked from
the warm measuring process; also measured from a cold and from a warm fork server), and of
``cxsim sweep`` in a fresh process, start and imports included. The four setups at 104 steps
(before and this, 1 and 2 workers) run ``--rounds`` times in turn, so that a change in the
machine's load hits all of them; the table gives medians. The sweep is overpromise_vs_honest at
1,000 customers over a grid of the over-promiser's inflation, two replicates, keeping every 13th
step, as ``sweep_throughput.py``. The batched sweep's numbers are the same as this checkout's
unbatched sweep (checked here on the firm tables); the earlier code's differ (other random
numbers: issue 16, step 1). ``--json`` writes the figures for ``run_all.py``.

Usage::

    .venv/bin/python experiments/benchmarks/batched_sweep.py              # ~20 min
    .venv/bin/python experiments/benchmarks/batched_sweep.py --runs 80 --long-runs 100 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median, quantiles

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cxsim-bench"
BEFORE = "8c0ab6d"
"""main just before issue 16 was merged: the sweep code the issue's targets are measured
against (one market per run, one draw at a time)."""


def spec(
    runs: int, customers: int, steps: int, name: str = "batched", every: int | None = None
) -> dict:
    """The benchmarks' sweep (also sweep_throughput.py's): the over-promiser's inflation over
    ``runs`` runs of two replicates; a kept row every 13 steps (``every``: another interval).
    Pure data: this module must not import the package before the code under test is chosen."""
    replicates = 2
    points = max(1, math.ceil(runs / replicates))
    values = [round(0.5 * i / max(1, points - 1), 6) for i in range(points)]
    return {
        "name": name,
        "scenario": "overpromise_vs_honest",
        "seed": 1,
        "replicates": replicates,
        "steps": steps,
        "set": {"market.customers": customers},
        "parameters": [
            {"key": "firms.Big Promises.levers.inflation", "name": "inflation", "values": values}
        ],
        "output": {"every": min(13, steps) if every is None else every},
    }


WARM_UP = (4, 200, 12)
"""``spec(*WARM_UP)``: the sweep a measuring process runs serially first, so that it holds every
kernel a sweep's batch calls, loaded (or compiled) as a warm process would: two batches of two
markets (a batch's views of its arrays) and twelve steps, long enough for word of mouth to fan
out. Its workers, forked from it, then load nothing at their first batch. The earlier warm-up, 2
runs of 3 steps (each market its own batch; nobody talked yet), left five of word of mouth's
kernels for every worker to load at its first batch, about 25 ms in all (4 December 2026)."""


# -- one measurement, in its own process (the code under test is first on sys.path) ---------


class ChildrenCPU:
    """CPU seconds of the descendants of process ``root`` (a measurement's sweep workers, and
    the fork server they may come from), sampled from ``/proc`` five times a second: the pool's
    workers are not waited for by the sweep's process, so ``getrusage`` misses them. It runs in
    the comparing process, not in the measured one: a thread there would make that process
    start its workers from the fork server (``sim.sweep.context``)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, float] = {}
        self.started: dict[int, float] = {}  # when each descendant started (perf_counter)
        self.peak_mb = 0.0  # the largest peak resident size (VmHWM) of a worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me, tick = self.root, os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.2):
            uptime, now = float(Path("/proc/uptime").read_text().split()[0]), time.perf_counter()
            stats: dict[int, list[str]] = {}
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
            mine, grew = {me}, True
            while grew:  # descendants: children of the processes found so far
                found = {pid for pid, f in stats.items() if int(f[1]) in mine} - mine
                mine |= found
                grew = bool(found)
            for pid in mine - {me}:
                fields = stats[pid]  # utime and stime at 11 and 12
                self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick
                self.started.setdefault(pid, now - (uptime - int(fields[19]) / tick))
                self.peak_mb = max(self.peak_mb, _peak_mb(Path(f"/proc/{pid}/status")))

    def total(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.seen.values())


def _peak_mb(status: Path) -> float:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Finished:
    """A sweep's progress hook: when each worker process delivered its last result."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}

    def start(self, *args: object) -> None:
        pass

    def update(self, result) -> None:
        self.last[result.worker] = time.perf_counter()

    def stop(self) -> None:
        pass


def measure(args: argparse.Namespace) -> None:
    import sim.sweep as sw

    extra = {} if args.batch == "main" else {"batch": args.batch == "yes"}

    def local(workers: int):  # the earlier code's pool has no choice of start
        if args.start == "auto":
            return "local"
        from sim.sweep.executors import LocalExecutor

        return LocalExecutor(workers, start=args.start)

    with tempfile.TemporaryDirectory() as tmp:  # warm-up: load (or compile) the kernels
        sw.run(spec(*WARM_UP), Path(tmp) / "w", executor="serial", **extra)
        if args.warm_server:  # the pool's fork server started and warm, as for a second sweep
            sw.run(spec(*WARM_UP), Path(tmp) / "s", executor=local(1), workers=1, **extra)
    finished = Finished()
    with tempfile.TemporaryDirectory() as tmp:
        started, main_cpu = time.perf_counter(), time.process_time()
        res = sw.run(
            spec(args.runs, args.customers, args.steps),
            Path(tmp) / "out",
            executor=local(args.workers),
            workers=args.workers,
            progress=finished,
            **extra,
        )
        wall = time.perf_counter() - started
        main_cpu = time.process_time() - main_cpu
        ok = int(res.report.ok)
        digest = ""
        if args.digest:
            firms = res.df("firms").sort_values(["run_id", "step", "firm"])
            cols = ["run_id", "step", "firm", "customers", "nps", "trust", "cash"]
            digest = str(pd_hash(firms[cols]))
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    ends = sorted(finished.last.values())
    print(
        json.dumps(
            {
                "wall": wall,
                "ok": ok,
                "kids_cpu": kids.ru_utime + kids.ru_stime,
                "kids_rss_mb": kids.ru_maxrss / 1024,
                "digest": digest,
                "started": started,  # perf_counter: the system's monotonic clock
                "worker_pids": sorted(int(name.rsplit(":", 1)[1]) for name in finished.last),
                "main_cpu": main_cpu,
                "tail_s": ends[-1] - ends[0] if len(ends) > 1 else 0.0,
            }
        )
    )


def pd_hash(frame) -> int:
    import pandas as pd

    return int(pd.util.hash_pandas_object(frame, index=False).sum())


# -- the comparison ------------------------------------------------------------------------


def baseline_copy(rev: str, path: Path | None = None) -> Path:
    """The earlier code: the source tree ``path`` (holding ``sim/`` and ``scenarios/``), or git
    revision ``rev`` of this repository extracted once into the cache."""
    if path is not None:
        if not (path / "sim" / "__init__.py").exists():
            raise SystemExit(f"--baseline-path {path}: expected a folder holding sim/")
        return path
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", rev], check=True, capture_output=True, text=True
    ).stdout.strip()
    where = CACHE / sha
    if not (where / "sim" / "__init__.py").exists():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "sim", "scenarios"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def run(
    code: Path,
    batch: str,
    runs: int,
    workers: int,
    steps: int,
    digest: bool = False,
    warm_server: bool = False,
    start: str = "auto",
) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--measure",
        "--batch",
        batch,
        "--runs",
        str(runs),
        "--workers",
        str(workers),
        "--steps",
        str(steps),
    ]
    if digest:
        cmd.append("--digest")
    if warm_server:
        cmd.append("--warm-server")
    if start != "auto":
        cmd += ["--start", start]
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.Popen(
        cmd, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    cpu = ChildrenCPU(proc.pid)
    stdout, stderr = proc.communicate()
    total = cpu.total()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr}")
    out = json.loads(stdout.strip().splitlines()[-1])
    out["runs/s"] = out["ok"] / out["wall"]
    out["worker_cpu"] = max(total, out.pop("kids_cpu"))
    out["worker_rss_mb"] = max(cpu.peak_mb, out.pop("kids_rss_mb"))
    # the fixed parts: until the first worker process exists (the fork server's warm-up, when
    # the workers come from a cold one), the main process's CPU (plan, store, results), and the
    # tail (the first worker to finish idles while the last one works)
    pids = set(out.pop("worker_pids"))
    workers = [t for pid, t in cpu.started.items() if pid in pids]
    out["start_s"] = min(workers) - out.pop("started") if workers else None
    return out


def toml_of(data: dict) -> str:
    """The benchmark's sweep spec as TOML (strings, numbers, one table, arrays of tables)."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            body = [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()]
            tables.append("\n".join([f"[{key}]", *body]))
        elif isinstance(value, list):
            for item in value:
                body = [f"{k} = {json.dumps(v)}" for k, v in item.items()]
                tables.append("\n".join([f"[[{key}]]", *body]))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n\n" + "\n\n".join(tables) + "\n"


def fresh(code: Path, runs: int, workers: int, steps: int) -> dict:
    """``cxsim sweep`` in a fresh interpreter, as an analyst runs it: the wall time from launch
    to exit, imports, plan, pool, store and summary included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(toml_of(spec(runs, 1000, steps, name="fresh")))
        cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--workers", str(workers)]
        cmd += ["--out", str(Path(tmp) / "out"), "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(code)}
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return {"wall": wall, "ok": runs, "runs/s": runs / wall}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def paired(ones: list[dict], twos: list[dict]) -> list[tuple[float, float]]:
    """The wall times of measurements on one worker and on two, pair by pair (``scaling``)."""
    return [(a["wall"], b["wall"]) for a, b in zip(ones, twos, strict=True)]


def scaling(pairs: list[tuple[float, float]]) -> dict:
    """Two workers against one from the wall times ``(1 worker, 2 workers)`` of pairs of the
    same sweep: each pair's ``wall1 / (2 * wall2)``, their median, quartiles (the middle half
    of the pairs), and how many pairs reached 90%."""
    ratios = sorted(a / (2 * b) for a, b in pairs)
    quartiles = quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else [ratios[0]] * 3
    return {
        "median": median(ratios),
        "quartiles": [quartiles[0], quartiles[2]],
        "pairs": ratios,
        "at_90": sum(r >= 0.9 for r in ratios),
    }


def described(spread: dict) -> str:
    """``scaling``'s figures in words: the middle half of the pairs and how many reached
    90%."""
    low, high = spread["quartiles"]
    return (
        f"middle half of {len(spread['pairs'])} pairs {low:.0%}-{high:.0%}, "
        f"{spread['at_90']} at 90% or more"
    )


def at_least(low: int):
    """An argparse type: a whole number of at least ``low`` (else argparse's message, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected at least {low}, got {value}")
        return value

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=at_least(2), default=160, help="runs of 104 steps a sweep")
    parser.add_argument("--long-runs", type=at_least(2), default=600, help="runs of 520 steps")
    parser.add_argument(
        "--long-pairs", type=at_least(1), default=3, help="1- and 2-worker pairs at 520 steps"
    )
    parser.add_argument("--rounds", type=at_least(1), default=2, help="rounds at 104 steps")
    parser.add_argument(
        "--scaling-runs",
        type=at_least(0),
        default=640,
        help="also 1 vs 2 workers on this many runs (0: not measured)",
    )
    parser.add_argument(
        "--scaling-pairs",
        type=at_least(1),
        default=9,
        help="alternating 1- and 2-worker pairs behind each scaling figure",
    )
    parser.add_argument("--baseline", default=BEFORE, help="git revision of the earlier code")
    parser.add_argument("--baseline-path", type=Path, help="source tree of the earlier code")
    parser.add_argument("--customers", type=at_least(10), default=1000)
    parser.add_argument("--json", type=Path, help="write the figures here (run_all.py)")
    # one measurement (internal)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", default="yes", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=104, help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return

    cores = os.cpu_count()
    print(
        f"{platform.node()}: {cores} cores, Python {platform.python_version()}, "
        f"load {load()} at the start; {args.customers} customers, overpromise_vs_honest"
    )
    main_code = baseline_copy(args.baseline, args.baseline_path)
    before = str(args.baseline_path or args.baseline)
    rows: list[dict] = []

    def row(
        label: str,
        code: Path,
        batch: str,
        runs: int,
        workers: int,
        steps: int,
        warm=False,
        start: str = "auto",
    ) -> dict:
        digest = batch != "main" and steps == 104 and start == "auto"
        r = run(code, batch, runs, workers, steps, digest=digest, warm_server=warm, start=start)
        r.update(label=label, runs=runs, workers=workers, steps=steps, load=load())
        rows.append(r)
        start = "-" if r.get("start_s") is None else f"{r['start_s']:.1f}"
        print(
            f"  {label:<28} {workers} worker(s) {runs:>5} runs x {steps} steps: "
            f"{r['wall']:7.1f} s, {r['runs/s']:6.2f} runs/s, workers' CPU "
            f"{r['worker_cpu']:6.1f} s, peak RSS {r['worker_rss_mb']:.0f} MB; first worker at "
            f"{start} s, tail {r.get('tail_s', 0):.1f} s, main CPU {r.get('main_cpu', 0):.1f} s "
            f"(load {r['load']})",
            flush=True,
        )
        return r

    n = args.runs
    setups = {  # the same work alternately, so that a change in the machine's load hits all
        "main1": (f"before ({before})", main_code, "main", 1),
        "main2": (f"before ({before})", main_code, "main", 2),
        "batch1": ("this, batched", ROOT, "yes", 1),
        "batch2": ("this, batched", ROOT, "yes", 2),
    }
    walls: dict[str, list[dict]] = {k: [] for k in setups}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        for key, (label, code, batch, workers) in setups.items():
            walls[key].append(row(label, code, batch, n, workers, 104))

    def pairs_of(label: str, runs: int, steps: int, count: int) -> tuple[list, list]:
        """``count`` pairs of this checkout's sweep, one worker then two: their rows."""
        ones, twos = [], []
        for _ in range(count):
            ones.append(row(label, ROOT, "yes", runs, 1, steps))
            twos.append(row(label, ROOT, "yes", runs, 2, steps))
        return ones, twos

    # more pairs of this checkout, one after the other: the scaling's medians
    ones, twos = pairs_of("this, batched (scaling)", n, 104, args.scaling_pairs - args.rounds)
    pairs = paired(walls["batch1"] + ones, walls["batch2"] + twos)
    big = []
    if args.scaling_runs:  # scaling where the workers' start is a small part of the work
        big = paired(*pairs_of("this, batched", args.scaling_runs, 104, args.scaling_pairs))
    cold, warm, cli = [], [], {}
    for _ in range(args.rounds):  # the workers from a fork server: cold, then kept warm
        for w in (1, 2):
            cold.append(row("this, cold fork server", ROOT, "yes", n, w, 104, start="forkserver"))
        for w in (1, 2):
            warm.append(
                row("this, warm fork server", ROOT, "yes", n, w, 104, True, start="forkserver")
            )
    for _ in range(args.rounds):  # `cxsim sweep` in a fresh process, as an analyst runs it
        for key, code in (("before", main_code), ("this", ROOT)):
            for w in (1, 2):
                r = fresh(code, n, w, 104)
                cli.setdefault((key, w), []).append(r["wall"])
                print(
                    f"  cxsim sweep, fresh process, {key:<6} {w} worker(s) {n:>5} runs x 104 "
                    f"steps: {r['wall']:7.1f} s, {r['runs/s']:6.2f} runs/s (load {load()})",
                    flush=True,
                )
    single1 = row("this, one market per run", ROOT, "no", n, 1, 104)
    from sim.sweep.worker import BATCH_CUSTOMERS  # this checkout's cap on a batch

    at_cap = 2 * 4 * max(1, BATCH_CUSTOMERS // args.customers)  # 2 workers x 4 full batches
    capped = [row("this, batched", ROOT, "yes", k * at_cap, 2, 104) for k in (1, 4)]
    long1, long2s = pairs_of("this, batched", args.long_runs, 520, args.long_pairs)  # the target
    spread_long = scaling(paired(long1, long2s))
    eff_long = spread_long["median"]
    long2 = sorted(long2s, key=lambda r: r["wall"])[(len(long2s) - 1) // 2]  # the median sweep

    def med(key: str, field: str = "runs/s") -> float:
        return median([m[field] for m in walls[key]])

    same = single1["digest"] == walls["batch1"][0]["digest"] == walls["batch2"][0]["digest"]
    speed1, speed2 = med("batch1") / med("main1"), med("batch2") / med("main2")
    # scaling from the wall time of the same work, pair by pair
    spread = scaling(pairs)
    eff = spread["median"]
    eff_main = scaling(paired(walls["main1"], walls["main2"]))["median"]
    cpu_ratio = median(
        [
            b["worker_cpu"] / max(a["worker_cpu"], 1e-9)
            for a, b in zip(walls["batch1"], walls["batch2"], strict=True)
        ]
    )
    spread_big = scaling(big) if big else None
    eff_big = spread_big["median"] if big else None
    eff_warm = scaling(paired(warm[::2], warm[1::2]))["median"]
    eff_cold = scaling(paired(cold[::2], cold[1::2]))["median"]
    cli_wall = {f"{key}_{w}": median(v) for (key, w), v in cli.items()}
    cli_rate = {k: n / v for k, v in cli_wall.items()}
    eff_cli = cli_wall["this_1"] / (2 * cli_wall["this_2"])
    fixed = {  # medians of the two setups' fixed parts (batched, workers forked from the sweep)
        key: {
            field: median([m.get(field) or 0.0 for m in walls[key]])
            for field in ("start_s", "tail_s", "main_cpu")
        }
        for key in ("batch1", "batch2")
    }
    per_run = long2["wall"] / max(long2["ok"], 1)
    projected = per_run * 10_000
    long_rss = max(b["worker_rss_mb"] for b in long2s)
    rss = (capped[0]["worker_rss_mb"], capped[1]["worker_rss_mb"], long_rss)
    bounded = rss[1] < 1.25 * rss[0]
    figures = {
        "runs": n,
        "long_runs": args.long_runs,
        "baseline": before,
        "runs_per_s": {k: med(k) for k in walls},
        "speedup_1": speed1,
        "speedup_2": speed2,
        "scaling_2": eff,
        "scaling_2_spread": spread,
        "scaling_2_before": eff_main,
        "cpu_2_over_1": cpu_ratio,
        "scaling_runs": args.scaling_runs,
        "scaling_2_big": eff_big,
        "scaling_2_big_spread": spread_big,
        "scaling_2_long": eff_long,
        "scaling_2_long_spread": spread_long,
        "scaling_2_warm_server": eff_warm,
        "scaling_2_cold_server": eff_cold,
        "cli_wall_s": cli_wall,
        "scaling_2_cli": eff_cli,
        "fixed": fixed,
        "long_wall": long2["wall"],
        "long_ok": long2["ok"],
        "projected_10k_s": projected,
        "rss_mb": rss,
        "bounded": bounded,
        "same_numbers": same,
        "load": [m["load"] for m in rows],
    }
    print()
    print("| target | measured | met |")
    print("|---|---|---|")
    print(
        f"| runs/s at 1k x 104, >= 5x before | 1 worker {med('batch1'):.1f} vs "
        f"{med('main1'):.1f} ({speed1:.1f}x); 2 workers {med('batch2'):.1f} vs "
        f"{med('main2'):.1f} ({speed2:.1f}x) | {'yes' if min(speed1, speed2) >= 5 else 'no'} |"
    )
    print(
        f"| 2 workers >= 90% of linear (same work, wall), {n} runs | batched {eff:.0%} "
        f"({described(spread)}; before {eff_main:.0%}); workers' CPU 2 vs 1: "
        f"{cpu_ratio:.2f}x | {'yes' if eff >= 0.9 else 'no'} |"
    )
    if spread_big is not None:
        print(
            f"| 2 workers >= 90% of linear, {args.scaling_runs} runs | batched {eff_big:.0%} "
            f"({described(spread_big)}) | {'yes' if eff_big >= 0.9 else 'no'} |"
        )
    print(
        f"| 2 workers >= 90% of linear, {args.long_runs} x 520 steps | batched {eff_long:.0%} "
        f"({described(spread_long)}) | {'yes' if eff_long >= 0.9 else 'no'} |"
    )
    print(f"| (2 workers from a fork server: cold, warm) | {eff_cold:.0%}, {eff_warm:.0%} | |")
    print(
        f"| (`cxsim sweep` in a fresh process, {n} runs) | before {cli_rate['before_1']:.1f} / "
        f"{cli_rate['before_2']:.1f} runs/s, this {cli_rate['this_1']:.1f} / "
        f"{cli_rate['this_2']:.1f} runs/s on 1 / 2 workers "
        f"({cli_rate['this_1'] / cli_rate['before_1']:.1f}x / "
        f"{cli_rate['this_2'] / cli_rate['before_2']:.1f}x); scaling {eff_cli:.0%} | |"
    )
    f1, f2 = fixed["batch1"], fixed["batch2"]
    print(
        f"| (fixed parts at {n} runs, 1 / 2 workers) | first worker at {f1['start_s']:.1f} / "
        f"{f2['start_s']:.1f} s, tail {f1['tail_s']:.1f} / {f2['tail_s']:.1f} s, main CPU "
        f"{f1['main_cpu']:.1f} / {f2['main_cpu']:.1f} s | |"
    )
    print(
        f"| 10,000 x 1k x 520 in <= 10 min | {long2['ok']} runs in {long2['wall']:.0f} s: "
        f"{projected / 60:.1f} min for 10,000 | {'yes' if projected <= 600 else 'no'} |"
    )
    print(
        f"| memory bounded | workers' peak RSS, batches at the cap: {rss[0]:.0f} MB at {at_cap} "
        f"runs, {rss[1]:.0f} MB at {4 * at_cap} (below the cap: "
        f"{med('batch2', 'worker_rss_mb'):.0f} MB at {n}); {rss[2]:.0f} MB at "
        f"{args.long_runs} x 520 | {'yes' if bounded else 'no'} |"
    )
    print(
        f"| batched = one by one (firm tables) | {'identical' if same else 'DIFFER'} | "
        f"{'yes' if same else 'no'} |"
    )
    print(f"\nload at the end: {load()}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
