"""Pipelines benchmark: what mlineage's recording adds to each task of a local pipeline.

A pipeline of 50 small tasks in a chain (each reads the previous task's Dataset, writes its
own, logs a metric and returns a value) runs with `mlineage.dsl.run_pipeline` on a fresh
SQLite store, in-process, caching on. The same 50 functions called directly, with plain
artifact objects on files in a temporary folder, are the baseline. Reported:

  overhead per task (miss)  (pipeline run - baseline) / 50, every task a cache miss
                            (each repetition passes a new seed): cache lookup, execution,
                            events, output artifacts with fingerprints, metrics, states
  per task (all cached)     a repeat of an earlier run: every task a cache hit

Target: under 20 ms of overhead per task.

    python benchmarks/bench_pipelines.py --quick    # a few seconds
    python benchmarks/bench_pipelines.py            # more repetitions
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import mlineage
from mlineage import dsl
from mlineage.dsl import Dataset, Input, Metrics, Output
from mlineage.sdk.config import settings

TASKS = 50
TARGET_MS = 20.0


@dsl.component
def first_step(out: Output[Dataset], seed: int = 0) -> int:
    with open(out.path, "w", encoding="utf-8") as handle:
        handle.write(f"seed={seed}\n")
    return seed


@dsl.component
def next_step(
    data: Input[Dataset], out: Output[Dataset], metrics: Output[Metrics], step: int
) -> int:
    with open(data.path, encoding="utf-8") as handle:
        text = handle.read()
    with open(out.path, "w", encoding="utf-8") as handle:
        handle.write(text + f"step={step}\n")
    metrics.log_metric(f"lines_{step}", text.count("\n") + 1)
    return step


@dsl.pipeline(name="chain")
def chain(seed: int = 0) -> None:
    previous = first_step(seed=seed)
    for step in range(1, TASKS):
        previous = next_step(data=previous.outputs["out"], step=step)


def plain_run(folder: str, seed: int) -> None:
    """The same functions, called directly, without mlineage recording anything."""
    out = Dataset(uri=os.path.join(folder, "first", "out"))
    os.makedirs(os.path.dirname(out.uri), exist_ok=True)
    first_step.func(out=out, seed=seed)
    for step in range(1, TASKS):
        task_dir = os.path.join(folder, f"step-{step}")
        os.makedirs(task_dir, exist_ok=True)
        new = Dataset(uri=os.path.join(task_dir, "out"))
        metrics = Metrics(uri=os.path.join(task_dir, "metrics"))
        next_step.func(data=out, out=new, metrics=metrics, step=step)
        out = new


def _timed(action: Callable[..., object], *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - start


def _row(label: str, seconds: float) -> str:
    return f"  {label:<38}{seconds * 1000:9.1f} ms  {seconds / TASKS * 1000:7.2f} ms/task"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 10")
    args = parser.parse_args(argv)
    repetitions = 3 if args.quick else 10
    with (
        tempfile.TemporaryDirectory() as folder,
        # the cache inside the folder, and the caller's environment as it was afterwards
        mock.patch.dict(os.environ, MLINEAGE_CACHE_DIR=os.path.join(folder, "cache")),
    ):
        mlineage.init(store=os.path.join(folder, "metadata.db"), experiment="bench")
        root = os.path.join(folder, "runs")
        dsl.run_pipeline(chain, {"seed": -1}, pipeline_root=root)  # warm up: imports, schema
        misses, plains, hits = [], [], []
        for seed in range(repetitions):
            plains.append(_timed(plain_run, os.path.join(folder, f"plain-{seed}"), seed))
            run = {"arguments": {"seed": seed}, "pipeline_root": root}
            misses.append(_timed(dsl.run_pipeline, chain, **run))
            hits.append(_timed(dsl.run_pipeline, chain, **run))
        settings.close()
        size = Path(folder, "metadata.db").stat().st_size
    miss, plain, hit = (statistics.median(t) for t in (misses, plains, hits))
    overhead_ms = (miss - plain) / TASKS * 1000
    print(f"pipeline of {TASKS} tasks in a chain, {repetitions} repetitions, medians")
    print(_row("without mlineage (plain calls)", plain))
    print(_row("run_pipeline, every task a miss", miss))
    print(_row("run_pipeline, every task cached", hit))
    verdict = "OK" if overhead_ms < TARGET_MS else "OVER TARGET"
    print(f"  overhead per task: {overhead_ms:.2f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
    print(f"  store size after {2 * repetitions + 1} runs: {size / 1e6:.1f} MB")
    return 0 if overhead_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
