"""Run every benchmark and print one table of figures against the issue's targets (``make bench``).

Each benchmark runs in its own subprocess (its output is shown as it goes) and hands its figures
back as JSON; the summary table lists each figure with its target and PASS / FAIL, and is also
written to ``results/benchmarks/summary.md`` with the machine it was measured on.

    python experiments/benchmarks/run_all.py [--quick] [--sweeps] [--sizes 1000 10000 ...]
        [--no-batched] [--baseline-path /work/old-main] [--out results/benchmarks]

``--quick`` measures fewer steps and repetitions (a smoke test, a minute or two); ``--sizes``
the step's market sizes (``step_scaling.py``'s, default 1k to 1M; the 1M figures and their
targets are listed only when 1M is measured); ``--sweeps``
also runs ``sweep_throughput.py`` (the sweep layer's benchmark, about 45 s; informational).
``batch_vs_large.py`` gives what a customer-step of small markets costs stepped alone, stepped
together and as one large market (issue 16, item 1; about a minute). The many-small-markets
targets of issue 16 come from ``batched_sweep.py`` (the batched sweep
against the sweep code before issue 16, 1 and 2 workers, 1k x 104 and 1k x 520; about 15
minutes, 3 with ``--quick``; ``--no-batched`` skips it).
Timings on a shared machine are noisy: the table shows wall-clock medians and, for the step, the
CPU time too, which other processes inflate much less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bandwidth import achieved, fastest_run
from batched_sweep import described

HERE = Path(__file__).resolve().parent


def run(script: str, args: list[str]) -> None:
    """Run one benchmark script, streaming its output; raise if it fails."""
    print(f"\n$ {Path(script).name} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def ui_render() -> dict[int, float]:
    """``{customers: frame ms}`` from the UI's own benchmark (``python -m sim.ui.bench``), which
    renders the Explore page with Solara's test renderer; empty when the UI is not installed."""
    print("\n$ python -m sim.ui.bench 1000 10000", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "sim.ui.bench", "1000", "10000"], capture_output=True, text=True
    )
    print(done.stdout or done.stderr[-2000:], flush=True)
    found = re.findall(r"([\d,]+) customers: step .*?step\+redraw\s+([\d.]+) ms", done.stdout)
    return {int(n.replace(",", "")): float(ms) for n, ms in found}


def cpu_name() -> str:
    """The CPU model, as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def compiled_for() -> str:
    """What numba compiles the kernels for: LLVM's name of the processor and the vector width
    the vectoriser may use (``sim.jit.WIDE_VECTORS``: 512-bit on the AVX-512 processors of
    ``sim.jit.WIDE_VECTOR_CPUS``), so that figures from different hosts can be read apart."""
    import llvmlite.binding as llvm

    import sim.jit

    features = os.environ.get("NUMBA_CPU_FEATURES", "")
    width = "512-bit vectors" if sim.jit.WIDE_VECTORS in features.split(",") else "LLVM's vectors"
    return f"compiled for {llvm.get_host_cpu_name()}, {width}"


def memory_gib() -> float:
    """Physical memory in GiB (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def spread_of(spread: dict | None) -> str:
    """A scaling median's pairs in words (``batched_sweep.described``), or nothing."""
    return f" ({described(spread)})" if spread else ""


def add_batched(add: Any, b: dict) -> None:
    """The rows of issue 16's targets from ``batched_sweep.py``'s figures."""
    rate = b["runs_per_s"]
    add(
        "sweep 1k x 104, runs/s, 1 worker",
        f"{rate['batch1']:.2f} vs {rate['main1']:.2f} before: {b['speedup_1']:.1f}x",
        ">= 5x",
        b["speedup_1"] >= 5,
    )
    add(
        "sweep 1k x 104, runs/s, 2 workers",
        f"{rate['batch2']:.2f} vs {rate['main2']:.2f} before: {b['speedup_2']:.1f}x",
        ">= 5x",
        b["speedup_2"] >= 5,
    )
    add(
        f"2 workers, scaling ({b['runs']} runs, wall)",
        f"{b['scaling_2']:.0%}{spread_of(b.get('scaling_2_spread'))}, before "
        f"{b['scaling_2_before']:.0%}",
        ">= 90%",
        b["scaling_2"] >= 0.9,
    )
    more = (
        ("scaling_2_big", f"{b.get('scaling_runs')} runs"),
        ("scaling_2_long", f"{b.get('long_runs')} x 520 steps"),
    )
    for key, work in more:  # the same total work on 1 and 2 workers: longer sweeps
        if b.get(key) is not None:
            measured = f"{b[key]:.0%}{spread_of(b.get(key + '_spread'))}"
            add(f"2 workers, scaling ({work}, wall)", measured, ">= 90%", b[key] >= 0.9)
    if b.get("scaling_2_cold_server") is not None:
        add(
            f"2 workers, scaling, from a fork server ({b['runs']} runs)",
            f"cold {b['scaling_2_cold_server']:.0%}, warm {b['scaling_2_warm_server']:.0%}",
            "(what the server's warm-up costs)",
            None,
        )
    if b.get("cli_wall_s"):
        wall, n = b["cli_wall_s"], b["runs"]
        add(
            f"`cxsim sweep` in a fresh process ({n} runs), runs/s, 1 / 2 workers",
            f"{n / wall['this_1']:.1f} / {n / wall['this_2']:.1f} vs {n / wall['before_1']:.1f} / "
            f"{n / wall['before_2']:.1f} before; scaling {b['scaling_2_cli']:.0%}",
            "(imports and start included)",
            None,
        )
    minutes = b["projected_10k_s"] / 60
    add(
        "10,000 x 1k x 520, 2 workers",
        f"{minutes:.0f} min ({b['long_ok']} runs in {b['long_wall']:.0f} s)",
        "<= 10 min",
        minutes <= 10,
    )
    rss = b["rss_mb"]
    add("sweep workers' peak RSS (full batches: runs, 4x runs; 520 steps)",
        f"{rss[0]:.0f} / {rss[1]:.0f} / {rss[2]:.0f} MB", "bounded", b["bounded"])  # fmt: skip
    add("batched sweep = one run at a time", "identical" if b["same_numbers"] else "DIFFER",
        "identical", b["same_numbers"])  # fmt: skip


def main() -> None:
    """Run the benchmarks and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repetitions")
    parser.add_argument("--sweeps", action="store_true", help="also run sweep_throughput.py")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="customers of the step's markets (default: step_scaling.py's, 1k to 1M)",
    )
    parser.add_argument("--no-batched", action="store_true", help="skip batched_sweep.py")
    parser.add_argument(
        "--baseline-path", help="batched_sweep.py's earlier code (a source tree holding sim/)"
    )
    parser.add_argument("--out", default="results/benchmarks")
    args = parser.parse_args()
    out = Path(args.out)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run("bandwidth.py", ["--json", str(tmp / "bandwidth_first.json")])
        run(
            "step_scaling.py",
            [
                "--steps",
                "6" if args.quick else "20",
                "--out",
                str(out),
                "--json",
                str(tmp / "scaling.json"),
                *(["--sizes", *map(str, args.sizes)] if args.sizes else []),
            ],
        )
        run(
            "vs_mesa.py",
            ["--repeats", "1" if args.quick else "3", "--json", str(tmp / "mesa.json")],
        )
        run(
            "ui_step.py", ["--frames", "10" if args.quick else "30", "--json", str(tmp / "ui.json")]
        )
        run("bandwidth.py", ["--json", str(tmp / "bandwidth.json")])
        rendered = ui_render()
        quick = ["--markets", "16", "--steps", "26", "--repeats", "1"] if args.quick else []
        run("batch_vs_large.py", [*quick, "--json", str(tmp / "batch_vs_large.json")])
        per_customer = json.loads((tmp / "batch_vs_large.json").read_text())
        if args.sweeps:
            run("sweep_throughput.py", ["--runs", "20"] if args.quick else [])
        batched = None
        if not args.no_batched:
            sizes = ["--runs", "16", "--long-runs", "20", "--rounds", "1", "--scaling-runs", "0"]
            sizes += ["--scaling-pairs", "2", "--long-pairs", "1"]
            sizes = sizes if args.quick else []
            where = ["--baseline-path", args.baseline_path] if args.baseline_path else []
            run("batched_sweep.py", [*sizes, *where, "--json", str(tmp / "batched.json")])
            batched = json.loads((tmp / "batched.json").read_text())
        measured = json.loads((tmp / "scaling.json").read_text())
        scaling = {r["customers"]: r for r in measured}
        mesa = {r["customers"]: r for r in json.loads((tmp / "mesa.json").read_text())}
        ui = {r["customers"]: r for r in json.loads((tmp / "ui.json").read_text())}
        bandwidth = fastest_run(  # the better of the two: the machine's, not a busy minute's
            [json.loads((tmp / f"{n}.json").read_text()) for n in ("bandwidth_first", "bandwidth")]
        )

    rows = []  # (what, measured, target, passed or None)

    def add(what: str, value: str, target: str = "", passed: bool | None = None) -> None:
        rows.append((what, value, target, passed))

    for n in sorted(scaling):
        r = scaling[n]
        add(
            f"step, {n:,} customers",
            f"{1000 * r['step_s_median']:.1f} ms (CPU {1000 * r['cpu_s_median']:.1f} ms)",
        )
    if 100_000 in scaling:
        s = 520 * scaling[100_000]["step_s_median"]
        add("100k customers x 520 steps", f"{s:.1f} s", "<= 30 s", s <= 30)
    if 1_000_000 in scaling:
        r = scaling[1_000_000]
        add(
            "1M customers, a step",
            f"{r['step_s_median']:.2f} s",
            "<= 0.5 s",
            r["step_s_median"] <= 0.5,
        )
        add(
            "1M customers, a step (CPU time, all threads)",
            f"{r['cpu_s_median']:.2f} s ({r['threads']} threads)",
        )
        add(
            "1M customers, peak memory",
            f"{r['peak_rss_mb'] / 1024:.2f} GiB",
            "<= 4 GiB",
            r["peak_rss_mb"] <= 4096,
        )
        add(
            "1M customers, network built",
            f"{r['network_s']:.1f} s",
            "<= 10 s",
            r["network_s"] <= 10,
        )
        add("1M customers, market built", f"{r['build_s']:.1f} s")
    for n in sorted(mesa):
        r = mesa[n]
        target, passed = ("", None) if n != 10_000 else (">= 100x", r["ratio"] >= 100)
        add(
            f"vs Mesa agents, {n:,} customers",
            f"{r['ratio']:.0f}x ({1000 * r['package_s']:.1f} ms vs {r['reference_s']:.2f} s)",
            target,
            passed,
        )
    for n in sorted(ui):
        r = ui[n]
        target, passed = ("", None) if n != 1_000 else ("<= 100 ms", r["frame_ms"] <= 100)
        add(
            f"UI frame (step + redraw), {n:,} customers",
            f"{r['frame_ms']:.1f} ms ({r['step_ms']:.1f} + {r['redraw_ms']:.1f})",
            target,
            passed,
        )

    for n, ms in sorted(rendered.items()):
        target, passed = ("", None) if n != 1_000 else ("<= 100 ms", ms <= 100)
        add(f"UI frame rendered (sim.ui.bench), {n:,} customers", f"{ms:.1f} ms", target, passed)
    add(
        "memory bandwidth (numpy copy, read + write; the better of two runs)",
        f"{bandwidth['copy_gbs']:.1f} GB/s",
    )
    add(
        "1M step: least bytes moved / at that bandwidth",
        f"{bandwidth['bytes_per_step_mb']:.0f} MiB / {1000 * bandwidth['bound_s']:.0f} ms",
    )
    if 1_000_000 in scaling:
        step_s = scaling[1_000_000]["step_s_median"]
        ratio = step_s / bandwidth["bound_s"]
        add("1M step (wall) / memory-traffic bound", f"{ratio:.0f}x")
        gbs, share = achieved(bandwidth["bytes_per_step_mb"], step_s, bandwidth["copy_gbs"])
        add(
            "1M step: those bytes per second, share of copy",
            f"{gbs:.2f} GB/s, {100 * share:.1f}%",
            ">= 30%",
            share >= 0.3,
        )
        add("1M step, issue 16 (quiet machine)", f"{step_s:.2f} s", "<= 0.15 s", step_s <= 0.15)

    for r in per_customer:  # issue 16, item 1: a batch of small markets against one market
        add(
            f"a customer-step, 1 thread, {r['scenario']}: {r['markets']} x {r['customers']:,} "
            "batched / one market",
            f"{r['batched']:,.0f} / {r['one']:,.0f} ns: {r['ratio']:.2f}x (one by one "
            f"{r['alone']:,.0f} ns)",
            "(approaches one market)",
        )
    if batched is not None:
        add_batched(add, batched)

    machine = (
        f"{cpu_name()} ({compiled_for()}), {os.cpu_count()} cores, {memory_gib():.0f} GiB, "
        f"Python {platform.python_version()}, load average {load_before:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after"
    )
    width, wide, aim = (max(len(r[i]) for r in rows) for i in range(3))  # the columns' widths
    wide, aim = max(wide, len("measured")), max(aim, len("target"))
    lines = [
        f"{'figure':<{width}}  {'measured':<{wide}}  {'target':<{aim}}  result",
        f"{'-' * width}  {'-' * wide}  {'-' * aim}  ------",
    ]
    for what, value, target, passed in rows:
        result = "" if passed is None else "PASS" if passed else "FAIL"
        lines.append(f"{what:<{width}}  {value:<{wide}}  {target:<{aim}}  {result}".rstrip())
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nSummary ({stamp}; {machine})\n")
    print("\n".join(lines))
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(
        f"# Benchmarks, {stamp}\n\nMachine: {machine}.\n\n```\n" + "\n".join(lines) + "\n```\n"
    )
    print(f"\nwrote {out / 'summary.md'}")


if __name__ == "__main__":
    main()
