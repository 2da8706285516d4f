"""The scripts of benchmarks/ run end to end at tiny sizes, mlineage's side only.

No other test runs them, so a change to the store or the SDK could break one unnoticed.
Here each script is imported by path (it lives outside the package) and run through its
`main` as a user runs it (`--quick`, and `--no-peers` where it has one), after its
module-level sizes are shrunk with monkeypatch. The tests assert what a reader of a
benchmark relies on: it finishes, it prints a row per workload, and the counts it reports
are right (what each timed workload made or returned). They never assert a timing: speed
is the benchmarks' business, not the tests'.

The peers (ml-metadata, MLflow) never run here: MLINEAGE_BENCH_VENVS points at an empty
folder, so a machine that has their virtualenvs behaves like one that does not, and the
scripts must report the peers unavailable rather than crash. PostgreSQL is the test
suite's server (`postgres_server`), put in place of the throwaway cluster the scripts
would start.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from mlineage.dsl.runner import PipelineRun
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, Execution, ExecutionState, StoreName

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
PARENT = StoreName("bench", "us-central1")  # where every benchmark records
HELPERS = ("run_peer", "pgcluster", "floors")
"""Modules the scripts import from their own folders."""


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/<name>.py as a fresh module, imported as running the script does: with
    its folder first on sys.path (a script may import from there without adding the folder
    itself). sys.path and the helper modules are restored after the test."""
    monkeypatch.setattr(sys, "path", [str(BENCHMARKS), *sys.path])
    absent = [helper for helper in HELPERS if helper not in sys.modules]
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    for helper in absent:
        if helper in sys.modules:  # recorded as absent, so dropped again after the test
            monkeypatch.setitem(sys.modules, helper, sys.modules.pop(helper))
    return module


@pytest.fixture(autouse=True)
def no_peer_virtualenvs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder where the peers' virtualenvs would be."""
    folder = tmp_path / "no-peer-venvs"
    folder.mkdir()
    monkeypatch.setenv("MLINEAGE_BENCH_VENVS", str(folder))
    return folder


def _count(store: SqlStore, kind: type[Artifact] | type[Execution]) -> int:
    if kind is Artifact:  # `list` is generic in a value-restricted type: one call per type
        return len(store.list(PARENT, Artifact, page_size=None).items)
    return len(store.list(PARENT, Execution, page_size=None).items)


def _lines_starting(output: str, label: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(label)]


# -- bench_foundation --------------------------------------------------------------------------

FOUNDATION_SIZES = {"artifacts": 250, "executions": 30, "log_metric": 20, "experiment_df": 7}
FOUNDATION_WORKLOADS = (
    "artifacts",
    "artifacts floor",
    "executions",
    "executions floor",
    "log_metric",
    "log_time_series",
    "experiment_df",
)


def _check_foundation_workloads(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap each timed workload of bench_foundation so that, once it has run, its store is
    checked to hold what it was timed making. Returns the log of "workload size" it ran."""
    ran: list[str] = []
    in_turns = bench.run_in_turns
    log_metric, log_series = bench.bench_log_metric, bench.bench_log_time_series
    floor_a, floor_e = bench.floor_artifacts, bench.floor_executions

    def run_in_turns(
        stores: dict[str, SqlStore], n: int, group: str, peer: Any, first: int
    ) -> dict[str, float]:
        before = {side: (_count(s, Artifact), _count(s, Execution)) for side, s in stores.items()}
        seconds: dict[str, float] = in_turns(stores, n, group, peer, first)
        for side, store in stores.items():
            artifacts, executions = before[side]
            if group == "artifacts":
                assert (_count(store, Artifact), _count(store, Execution)) == (artifacts + n, 0)
            else:  # 2 inputs each (made untimed) and 1 output each (made by record_execution)
                made = (_count(store, Artifact), _count(store, Execution))
                assert made == (artifacts + 3 * n, executions + n)
            assert seconds[side] > 0
            ran.append(f"{group} {n}")
        return seconds

    # A floor must insert what the workload above it does, or it would bound less work.
    def floor_artifacts(folder: Path, name: str, sync: str, n: int) -> tuple[float, int]:
        seconds, inserted = floor_a(folder, name, sync, n)
        assert inserted == n
        store = SqlStore(f"sqlite:///{folder / name}.db")
        try:
            made = store.list(PARENT, Artifact, page_size=None).items
        finally:
            store.close()
        assert sorted(a.display_name for a in made) == sorted(f"dataset-{i}" for i in range(n))
        ran.append(f"artifacts floor {n}")
        return seconds, inserted

    def floor_executions(
        folder: Path, name: str, sync: str, n: int
    ) -> tuple[float, dict[str, int]]:
        seconds, inserted = floor_e(folder, name, sync, n)
        assert inserted == {"executions": n, "artifacts": n, "events": 3 * n}
        ran.append(f"executions floor {n}")
        return seconds, inserted

    def the_run(url: str) -> tuple[SqlStore, str]:
        store = SqlStore(url)
        (run,) = store.list_runs(str(PARENT.child("contexts", "per-call")), page_size=None).items
        return store, run.context.name

    def bench_log_metric(url: str, n: int) -> float:
        seconds: float = log_metric(url, n)
        store, run = the_run(url)
        try:
            assert store.get_metrics(run) == {"loss": 1.0 / n}  # the last of n values
        finally:
            store.close()
        ran.append(f"log_metric {n}")
        return seconds

    def bench_log_time_series(url: str, n: int) -> float:
        seconds: float = log_series(url, n)
        store, run = the_run(url)
        try:
            points = store.read_time_series(run)
        finally:
            store.close()
        assert [(p.key, p.step) for p in points] == [("loss", step) for step in range(n)]
        ran.append(f"log_time_series {n}")
        return seconds

    for wrapper in (
        run_in_turns,
        floor_artifacts,
        floor_executions,
        bench_log_metric,
        bench_log_time_series,
    ):
        monkeypatch.setattr(bench, wrapper.__name__, wrapper)
    return ran


def test_foundation_runs_every_workload_at_its_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_foundation", monkeypatch)
    monkeypatch.setitem(bench.SIZES, "quick", FOUNDATION_SIZES)
    ran = _check_foundation_workloads(bench, monkeypatch)
    out = tmp_path / "foundation.json"

    assert bench.main(["--quick", "--no-peers", "--json", str(out)]) == 0

    # Each side (NORMAL, then FULL) times the workloads at the sizes the table reports, after
    # a warm-up of its own (checked too); experiment_df checks its DataFrame's shape itself.
    sizes = {
        **FOUNDATION_SIZES,
        "artifacts floor": FOUNDATION_SIZES["artifacts"],
        "executions floor": FOUNDATION_SIZES["executions"],
        "log_time_series": FOUNDATION_SIZES["log_metric"],
    }
    for workload in FOUNDATION_WORKLOADS[:-1]:
        assert ran.count(f"{workload} {sizes[workload]}") == 2, ran
    rows = json.loads(out.read_text())
    assert [row["workload"] for row in rows] == list(FOUNDATION_WORKLOADS)
    for row in rows:
        assert row["size"] == sizes[row["workload"]]
        assert row["mlineage_normal"] > 0
        assert row["mlineage_full"] > 0
        assert row["peer_value"] is row["ratio_normal"] is row["ratio_full"] is None
        assert row["unit"] == ("seconds" if row["workload"] == "experiment_df" else "ops/s")
    printed = capsys.readouterr().out
    assert "mlineage foundation benchmark (quick sizes" in printed
    for row in rows:
        (line,) = [
            line
            for line in printed.splitlines()
            if re.match(rf"{re.escape(row['workload'])} +{row['size']} ", line)
        ]
        assert row["peer"] in line
        assert line.endswith("x" if row["target_ratio"] else "bound")


def test_foundation_rounds_run_each_workload_beside_its_peer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """(a) and (b) run in parts, mlineage's two sides and the peer taking turns part by part,
    the side that starts rotating; the others run back to back with their peer, the peer
    first in every other round. Each round's paired ratios are reported."""
    bench = load("bench_foundation", monkeypatch)
    monkeypatch.setitem(bench.SIZES, "quick", FOUNDATION_SIZES)
    monkeypatch.setattr(bench, "PARTS", 3)
    ran = _check_foundation_workloads(bench, monkeypatch)
    turns: list[str] = []  # (a) and (b): which side ran, a line per turn

    class PeerParts:
        def __init__(self, peer: str, workload: str, size: int, _: Path, parts: int) -> None:
            self.name, self.left = f"{peer}:{workload} {size}", parts

        def __enter__(self) -> PeerParts:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def next_part(self) -> float:
            turns.append(f"{self.name.split()[0]} peer")
            self.left -= 1
            return 1.0

        def result(self) -> dict[str, Any]:
            assert self.left == 0  # every part ran
            ran.append(f"peer {self.name}")
            return {"seconds": 100.0, "ops_per_sec": 1.0}

    def logging_turns(group: str, steps: Callable[[SqlStore, int], Any]) -> Callable[..., Any]:
        def logged(store: SqlStore, n: int) -> tuple[Callable[[int], None], int]:
            run, count = steps(store, n)
            database = str(store.db.engine.url.database)
            side = f"mlmd:{group} {'full' if database.endswith('-full.db') else 'normal'}"

            def step(i: int) -> None:
                if turns[-1:] != [side]:  # a turn is one or more steps
                    turns.append(side)
                run(i)

            return step, count

        return logged

    for group, steps in list(bench.STEPS.items()):
        monkeypatch.setitem(bench.STEPS, group, logging_turns(group, steps))
    monkeypatch.setattr(bench, "PeerParts", PeerParts)
    monkeypatch.setattr(bench, "run_peer", lambda *args, **_: _logged_peer(ran, *args))
    assert bench.main(["--quick", "--repeat", "2"]) == 0

    a, e, m = (FOUNDATION_SIZES[w] for w in ("artifacts", "executions", "log_metric"))
    in_turns = {  # (a) and (b): both stores, then the peer's result
        "artifacts": [f"artifacts {a}"] * 2 + [f"peer mlmd:artifacts {a}"],
        "executions": [f"executions {e}"] * 2 + [f"peer mlmd:executions {e}"],
    }
    on_their_own = {  # mlineage's runs outside the turns: the floors, (c) and (d)
        "artifacts": [f"artifacts floor {a}"] * 2,
        "executions": [f"executions floor {e}"] * 2,
        "log_metric": [f"log_metric {m}", f"log_time_series {m}"] * 2,
        "experiment_df": [],  # not logged by the wrappers
    }
    peers = {
        "log_metric": [f"peer mlflow:log_metric {m}"],
        "experiment_df": [f"peer mlflow:search_runs_df {FOUNDATION_SIZES['experiment_df']}"],
    }
    first = [
        line
        for group in on_their_own
        for line in [*in_turns.get(group, []), *on_their_own[group], *peers.get(group, [])]
    ]
    second = [
        line
        for group in on_their_own
        for line in [*in_turns.get(group, []), *peers.get(group, []), *on_their_own[group]]
    ]
    timed = [line for line in ran if line in first]  # warm-ups run other sizes
    assert timed == first + second

    def rotations(start: int) -> list[str]:
        sides = ["normal", "full", "peer"]
        return [sides[(start + k + j) % 3] for k in range(3) for j in range(3)]

    expected = [
        f"mlmd:{group} {side}"
        for round_ in range(2)
        for group in ("artifacts", "executions")
        for side in rotations(round_)
    ]
    assert [turn for turn in turns if "mlmd:" in turn] == expected

    printed = capsys.readouterr().out
    lines = printed.splitlines()
    at = lines.index("and each round's ratios: NORMAL | FULL")
    for workload in FOUNDATION_WORKLOADS:
        (row,) = [i for i, line in enumerate(lines[at:]) if line.startswith(f"  {workload:<18}")]
        ratios = lines[at + row + 1].split()  # 2 rounds a side: "Nx Nx | Nx Nx"
        assert len(ratios) == 5, ratios
        assert ratios[2] == "|", ratios
        assert all(re.fullmatch(r"\d+\.\dx", r) for r in ratios[:2] + ratios[3:]), ratios


def test_foundation_ratios_are_the_medians_of_each_rounds_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A round's sides ran side by side: the table's ratio is the median of the rounds'
    ratios, not one round's median rate beside another round's."""
    bench = load("bench_foundation", monkeypatch)
    rates = {"normal": [10.0, 20.0, 30.0], "full": [5.0, 6.0, 30.0]}  # ops/s, rounds 1-3
    sides = {
        sync: [{"executions": bench.Measure("executions", 60, 60 / r)} for r in rates[sync]]
        for sync in rates
    }
    peer = [{"seconds": 60 / r, "ops_per_sec": r} for r in (1.0, 10.0, 3.0)]

    paired = bench.paired_ratios(sides["normal"], sides["full"], {"mlmd:executions": peer})
    # rounds: NORMAL 10x 2x 10x, FULL 5x 0.6x 10x (the medians' ratio would be 20/3 and 2)
    assert paired == {"executions": (pytest.approx(10.0), pytest.approx(5.0))}

    medians = {sync: bench._median_measures(sides[sync]) for sync in sides}
    rows = bench.report(
        medians["normal"], medians["full"], {"mlmd:executions": peer[2]}, "quick", paired
    )
    assert (rows[0]["ratio_normal"], rows[0]["ratio_full"]) == paired["executions"]
    (line,) = _lines_starting(capsys.readouterr().out, "executions ")
    assert line.split()[-3:] == ["10.0x", "5.0x", "5x"]
    assert bench.paired_ratios(sides["normal"], sides["full"], {"mlmd:executions": []}) == {}


def _logged_peer(ran: list[str], peer: str, workload: str, size: int, *_: Any) -> dict[str, Any]:
    ran.append(f"peer {peer}:{workload} {size}")
    return {"seconds": 100.0, "ops_per_sec": 1.0}


def test_foundation_reports_missing_peers_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `main` does for the peers without --no-peers, on a machine without them: each
    is reported unavailable, and mlineage's sides are measured all the same."""
    bench = load("bench_foundation", monkeypatch)
    runs: dict[str, list[dict[str, Any]]] = {}
    unavailable: set[str] = set()

    for group in bench.GROUPS:
        if group in bench.STEPS:
            for sync in bench.SYNCS:
                (tmp_path / f"{sync}-0").mkdir(exist_ok=True)
            measures = bench.run_side_by_side(
                tmp_path, 0, FOUNDATION_SIZES, group, True, runs, unavailable
            )
            assert sorted(measures) == ["full", "normal"]
            for measure in measures.values():
                assert (measure.workload, measure.size) == (group, FOUNDATION_SIZES[group])
                assert measure.seconds > 0
        else:
            bench._run_peer(group, "default", FOUNDATION_SIZES, tmp_path, 1, runs, unavailable)

    keys = {"mlmd:artifacts", "mlmd:executions", "mlflow:log_metric", "mlflow:search_runs_df"}
    assert (runs, unavailable) == ({}, keys)
    reported = capsys.readouterr().err
    for key in keys:
        assert f"peer {key} unavailable: no virtualenv" in reported


_STAND_IN_PEER = """
import sys
sys.path.insert(0, {peers!r})
from _workload_common import Result, emit, parse_args, timed_parts

args = parse_args("a stand-in peer", ("steps",), ("default",), (), in_parts=("steps",))
log = open({log!r}, "a")

def step(i):
    if i == {fail_at}:
        raise RuntimeError("step " + str(i) + " failed")
    print("peer", i, file=log, flush=True)

seconds = timed_parts(step, args.size, args.parts)
emit(Result("stand-in", "steps", args.size, seconds, args.size / seconds, "", 0.0, "0", ""))
"""


def _stand_in_peer(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, folder: Path, fail_at: int = -1
) -> Path:
    """Register a peer "stand-in" whose workload "steps" logs each step to the returned
    file, through the same plumbing as the real peers' scripts, run by this interpreter."""
    run_peer = sys.modules["run_peer"]
    log = folder / "turns.log"
    script = folder / "stand_in.py"
    peers = str(BENCHMARKS / "peers")
    script.write_text(_STAND_IN_PEER.format(peers=peers, log=str(log), fail_at=fail_at))
    peer = run_peer.Peer("stand-in", "stand-in", "0", (), str(script), ("steps",))
    monkeypatch.setitem(run_peer.PEERS, "stand-in", peer)
    monkeypatch.setattr(run_peer, "peer_python", lambda _: Path(sys.executable))
    return log


def test_a_peer_runs_each_part_when_its_turn_comes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The peer's process sets up, then runs a part only when told: the two sides' steps
    interleave part by part, and its result times the steps of all its parts."""
    bench = load("bench_foundation", monkeypatch)
    log = _stand_in_peer(bench, monkeypatch, tmp_path)

    with bench.PeerParts("stand-in", "steps", 7, tmp_path / "db", 3) as peer:
        seconds = []
        for part in range(3):
            with log.open("a") as ours:
                print("ours", part, file=ours)
            seconds.append(peer.next_part())
        result = peer.result()

    assert log.read_text().split("\n") == [
        "ours 0", "peer 0", "peer 1",  # 7 steps in 3 parts: 2, 2, 3
        "ours 1", "peer 2", "peer 3",
        "ours 2", "peer 4", "peer 5", "peer 6",
        "",
    ]  # fmt: skip
    assert (result["peer"], result["size"]) == ("stand-in", 7)
    assert result["seconds"] == pytest.approx(sum(seconds))


def test_a_peer_that_fails_mid_run_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bench = load("bench_foundation", monkeypatch)
    _stand_in_peer(bench, monkeypatch, tmp_path, fail_at=3)
    run_peer = sys.modules["run_peer"]

    with bench.PeerParts("stand-in", "steps", 6, tmp_path / "db", 3) as peer:
        peer.next_part()  # steps 0 and 1
        with pytest.raises(run_peer.PeerError, match="step 3 failed"):
            peer.next_part()


# -- bench_queries -----------------------------------------------------------------------------

QUERY_SIZES = {
    "filter": 4_400,  # a quarter is 1,100 rows: 2 pages of 1,000
    # 11 layers of 100: upstream at 20 hops from the last layer stops short of the sources,
    # so the hop bound decides the answer (10 layers is the least that has 20 hops at all)
    "lineage": 1_100,
    "unrelated": 2_500,  # 3 batches of create_many, the last one partial
    "reads_small": 3,
    "reads_big": 30,
}


def dag_answer(bench: ModuleType, executions: int, start: str, hops: int, direction: str) -> str:
    """What a lineage query on bench_queries' DAG must return ("<a>a <e>e"), found by a walk
    over the DAG's definition (100 source artifacts; execution j of layer l reads the
    artifacts `dag_inputs(l, j)` of layer l - 1 and writes artifact j of layer l)."""
    width, layers = bench.DAG_WIDTH, executions // bench.DAG_WIDTH
    readers: dict[tuple[int, int], list[int]] = {}  # artifact -> executions of the next layer
    for layer in range(1, layers + 1):
        for j in range(width):
            for column in bench.dag_inputs(layer, j):
                readers.setdefault((layer - 1, column), []).append(j)

    def step(node: tuple[str, int, int], way: str) -> list[tuple[str, int, int]]:
        kind, layer, j = node
        if way == "upstream":
            if kind == "artifact":
                return [("execution", layer, j)] if layer > 0 else []
            return [("artifact", layer - 1, column) for column in bench.dag_inputs(layer, j)]
        if kind == "artifact":
            return [("execution", layer + 1, k) for k in readers.get((layer, j), [])]
        return [("artifact", layer, j)]

    origin = ("artifact", layers if start == "last" else layers // 2, width // 2)
    found = {origin}
    for way in ("upstream", "downstream") if direction == "both" else (direction,):
        seen, queue = {origin: 0}, deque([origin])
        while queue:  # breadth first: every node at its fewest hops
            node = queue.popleft()
            if seen[node] < hops:
                for near in step(node, way):
                    if near not in seen:
                        seen[near] = seen[node] + 1
                        queue.append(near)
        found |= set(seen)
    artifacts = sum(kind == "artifact" for kind, _, _ in found)
    return f"{artifacts}a {len(found) - artifacts}e"


def test_queries_return_what_the_data_implies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_queries", monkeypatch)
    monkeypatch.setitem(bench.SIZES, "quick", QUERY_SIZES)
    out = tmp_path / "queries.json"

    assert bench.main(["--quick", "--no-peers", "--json", str(out)]) == 0

    report = json.loads(out.read_text())
    assert report["sizes"] == QUERY_SIZES
    rows = {row["workload"]: row for row in report["rows"]}
    dag = QUERY_SIZES["lineage"] + bench.DAG_WIDTH
    big, small = QUERY_SIZES["reads_big"], QUERY_SIZES["reads_small"]
    unrelated, shared = QUERY_SIZES["unrelated"], 2 * big + 2  # raw, write, reads, models
    expected = {  # workload -> (store size, mlineage returned, what it is compared with)
        "filter_25k paged 1000": (4_400, "1,100 rows", ""),
        "filter_25k page_size=None": (4_400, "1,100 rows", ""),  # one call: no cap
        "floor filter_25k": (4_400, "1,100 rows", ""),  # the filter's rows, found by row id
        "filter_limit_100": (4_400, "100 rows", ""),
    }
    shared_rows = {
        "shared_up all hops": (shared, "4a 2e", "4a 2e"),  # whatever the number of reads
        # the write, every run's read, execution and model
        "shared_down 2 hops /node": (
            shared,
            f"{2 * big + 1}a {big}e",
            f"{2 * small + 1}a {small}e",
        ),
    }
    lineage: dict[str, tuple[int, str, str]] = {}
    store_size: dict[str, tuple[int, str, str]] = {}
    for start, hops, direction in bench.LINEAGE.values():
        answer = dag_answer(bench, QUERY_SIZES["lineage"], start, hops, direction)
        lineage[f"lineage {direction} {hops} hops"] = (dag, answer, "-")
        if (start, hops, direction) == bench.LINEAGE[bench.FLOORED]:  # the answer's rows
            lineage[f"floor {direction} {hops} hops"] = (dag, answer, "-")
        store_size[f"store_size {direction} {hops}"] = (dag + unrelated, answer, answer)
    expected = {**expected, **lineage, **store_size, **shared_rows}
    assert list(rows) == list(expected)  # one row per workload, in the table's order
    for workload, (store, ours, theirs) in expected.items():
        row = rows[workload]
        assert (row["store_artifacts"], row["ours_returned"]) == (store, ours), workload
        if workload.startswith(("store_size", "shared")):  # mlineage beside itself
            assert row["theirs_returned"] == theirs, workload
            assert len(row["ours"]) == len(row["theirs"]) == bench.REPS, workload
        else:  # --no-peers: nothing beside it
            assert (row["theirs"], row["ratio"], row["same_answer"]) == (None, None, None)
            assert len(row["ours"]) == bench.REPS, workload
        if workload.startswith("store_size"):
            assert row["same_answer"] is True, workload  # events included
    printed = capsys.readouterr().out
    for workload, row in rows.items():
        (line,) = _lines_starting(printed, workload + " ")
        assert row["ours_returned"] in line
    assert "returns 1/4 of the store (1,100 rows at this size)" in printed


def test_queries_report_missing_peers_unavailable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --no-peers, on a machine without ml-metadata's virtualenv (smallest sizes)."""
    bench = load("bench_queries", monkeypatch)
    sizes = {"filter": 8, "lineage": 100, "unrelated": 10, "reads_small": 1, "reads_big": 2}
    monkeypatch.setitem(bench.SIZES, "quick", sizes)

    assert bench.main(["--quick"]) == 0

    printed = capsys.readouterr()
    for workload in ("filter", "lineage"):
        assert f"peer mlmd:{workload} unavailable: no virtualenv" in printed.err
    (line,) = _lines_starting(printed.out, "filter_limit_100 ")
    assert re.search(r"mlmd get_artifacts limit=100 +- ", line)  # no time beside ours
    assert "mlmd BIDIRECTIONAL" not in printed.out  # its row is shown with the peer only


# -- bench_auth --------------------------------------------------------------------------------

AUTH_ROWS = ("no-op app", "anonymous loopback", "token, cached", "token, uncached")


def _run_auth(bench: ModuleType, monkeypatch: pytest.MonkeyPatch, *options: str) -> list[int]:
    """bench_auth's main with `options`, 1 round; returns the number of calls of each timed
    row, in order."""
    monkeypatch.setattr(bench, "ROUNDS", 1)
    calls: list[int] = []
    per_call = bench._per_call_us

    def _per_call_us(app: Any, headers: list[tuple[bytes, bytes]], count: int) -> float:
        calls.append(count)
        microseconds: float = per_call(app, headers, count)  # raises on a refused request
        return microseconds

    monkeypatch.setattr(bench, "_per_call_us", _per_call_us)
    assert bench.main(["--quick", *options]) == 0
    return calls


def _auth_table(printed: str, kinds: list[str], calls: list[int]) -> None:
    """The table has a column per database and a row per case, and its title says how many
    calls each row made (the uncached row's apart: each of its calls reads the database)."""
    title = re.search(
        r"microseconds per request \(median of 1 rounds, (\d+) calls each; (\d+) for the "
        r"uncached token",
        printed,
    )
    assert title, printed
    each, uncached = int(title[1]), int(title[2])
    assert calls == [each, each, each, uncached] * len(kinds)
    (header,) = _lines_starting(printed, " " * 22)
    assert header.split() == kinds
    for label in AUTH_ROWS:
        (line,) = _lines_starting(printed, label)
        values = line[22:].split()
        assert len(values) == len(kinds), line
        assert all(float(value) > 0 for value in values), line


def test_auth(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("bench_auth", monkeypatch)

    calls = _run_auth(bench, monkeypatch)

    _auth_table(capsys.readouterr().out, ["sqlite"], calls)


@contextmanager
def _admin(server: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(
        server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _drop_databases(server: str, names: list[str]) -> None:
    with _admin(server) as connection:
        for name in names:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _use_suite_postgres(bench: ModuleType, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The script's throwaway cluster is the test suite's PostgreSQL server (postgres_server
    skips or fails without one, as every PostgreSQL test does)."""

    @contextmanager
    def postgres_cluster(directory: Path) -> Iterator[str]:
        del directory
        yield server

    monkeypatch.setattr(bench, "postgres_cluster", postgres_cluster)


def test_auth_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], postgres_server: str
) -> None:
    """`--postgres`, on the test suite's server."""
    bench = load("bench_auth", monkeypatch)
    _use_suite_postgres(bench, postgres_server, monkeypatch)
    _drop_databases(postgres_server, ["bench_auth"])  # the script's fixed name
    try:
        calls = _run_auth(bench, monkeypatch, "--postgres")
    finally:
        _drop_databases(postgres_server, ["bench_auth"])

    _auth_table(capsys.readouterr().out, ["sqlite", "postgresql"], calls)


# -- bench_pipelines ---------------------------------------------------------------------------


def test_pipelines_miss_then_hit_the_cache(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_pipelines", monkeypatch)
    monkeypatch.setattr(bench, "TASKS", 3)
    runs: list[PipelineRun] = []
    run_pipeline = bench.dsl.run_pipeline

    def recorded(*args: Any, **kwargs: Any) -> PipelineRun:
        run: PipelineRun = run_pipeline(*args, **kwargs)
        runs.append(run)
        return run

    monkeypatch.setattr(bench.dsl, "run_pipeline", recorded)
    monkeypatch.setenv("MLINEAGE_CACHE_DIR", "/the/caller's/cache")

    code = bench.main(["--quick"])

    assert os.environ["MLINEAGE_CACHE_DIR"] == "/the/caller's/cache"  # restored
    printed = capsys.readouterr().out
    verdict = re.search(
        r"overhead per task: -?[\d.]+ ms \(target < 20 ms\): (OK|OVER TARGET)", printed
    )
    assert verdict, printed
    assert code == (0 if verdict[1] == "OK" else 1)  # the verdict is a timing: either is fine
    states = [[task.state for task in run.tasks.values()] for run in runs]
    complete, cached = [ExecutionState.COMPLETE] * 3, [ExecutionState.CACHED] * 3
    # the warm-up, then per repetition a run of new seeds (every task a miss) and its repeat
    assert states == [complete] + [complete, cached] * 3
    assert "pipeline of 3 tasks in a chain, 3 repetitions, medians" in printed
    for label in (
        "without mlineage (plain calls)",
        "run_pipeline, every task a miss",
        "run_pipeline, every task cached",
    ):
        (line,) = _lines_starting(printed, f"  {label} ")
        assert line.endswith(" ms/task")
    assert "store size after 7 runs" in printed


# -- bench_ui ----------------------------------------------------------------------------------

UI_SIZES = {"runs": 20, "lineage_width": 64, "lineage_layers": 6, "points": 5_000}
"""The least the script accepts: a width of 64 and 6 layers (fewer, and its count of the
root's upstream, which assumes the upstream reaches every source, is wrong)."""


def test_ui_pages_hold_what_they_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_ui", monkeypatch)
    monkeypatch.setitem(bench.SIZES, "quick", UI_SIZES)
    monkeypatch.setitem(bench.REPEATS, "quick", 1)
    answers: dict[str, Any] = {}
    get = bench.get

    def recorded(client: Any, path: str, **params: object) -> Callable[[], object]:
        request = get(client, path, **params)  # raises on any status but 200

        def timed() -> object:
            answers[path.rsplit("/", 1)[-1]] = response = request()
            return response

        return timed

    monkeypatch.setattr(bench, "get", recorded)

    code = bench.main(["--quick"])

    printed = capsys.readouterr().out
    assert code == (1 if "SLOW" in printed else 0)  # the verdict is a timing: either is fine
    runs = f"{UI_SIZES['runs'] + 1} runs"  # and the run holding the long series
    # the root's upstream: the 64 sources, then 1, 2, 4, ... 32 executions and their outputs
    upstream, nodes = 64 + 2 * (1 + 2 + 4 + 8 + 16 + 32), 64 + 2 * 64 * 6
    drawn = f"{upstream} of {nodes} nodes"
    for label, size in (
        ("runs page, sorted", runs),
        ("runs page, filtered + sorted", runs),
        ("runs page, differing columns", runs),
        ("runs CSV (every run)", runs),
        ("lineage graph.json (whole)", drawn),
        ("artifact page", drawn),
        ("series.json (downsampled)", "5,000 points"),
    ):
        (line,) = _lines_starting(printed, f"| {label} ")
        assert line.split("|")[2].strip() == size
    assert len(answers["runs.csv"].text.splitlines()) == 1 + UI_SIZES["runs"] + 1  # a header
    assert len(answers["graph.json"].json()["nodes"]) == upstream
    (series,) = answers["series.json"].json()["metrics"]["loss"]
    assert len(series["x"]) <= 2_000  # downsampled
    assert (series["x"][0], series["x"][-1]) == (0, UI_SIZES["points"] - 1)


# -- bench_server ------------------------------------------------------------------------------

SERVER_SIZES = {"clients": 2, "log_metrics": 10, "batch_series": 2}


def _check_server_store(store_url: str, batch: int) -> None:
    """What the mlineage server stored: one experiment per workload, a run per client; the
    log_metrics runs hold the last of their values, the batch runs every point (`batch` per
    request)."""
    clients = SERVER_SIZES["clients"]
    per_client = {name: SERVER_SIZES[name] // clients for name in ("log_metrics", "batch_series")}
    store = SqlStore(store_url)
    try:
        contexts = store.list(PARENT, Context, page_size=None).items
        experiments = [c.name for c in contexts if c.schema_title == "system.Experiment"]
        assert len(experiments) == 2
        metrics, series = [], []
        for experiment in experiments:
            for run in store.list_runs(experiment, page_size=None).items:
                metrics.append(store.get_metrics(run.context.name))
                series.append(len(store.read_time_series(run.context.name)))
    finally:
        store.close()
    expected_metrics = [{"loss": 1.0 / per_client["log_metrics"]}] * clients + [{}] * clients
    assert sorted(metrics, key=len, reverse=True) == expected_metrics
    points = per_client["batch_series"] * batch
    assert sorted(series, reverse=True) == [points] * clients + [0] * clients


def _run_server(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, backend: str, *options: str
) -> dict[str, Any]:
    """bench_server's main on `backend` with `options`, 1 worker per server (starting a
    server takes seconds on a loaded 2-core machine); returns what `measure` returned, by
    system, after checking mlineage's store."""
    monkeypatch.setitem(bench.SIZES, "quick", SERVER_SIZES)
    argv = ["--quick", "--backend", backend, "--workers", "1", *options]
    measured: dict[str, Any] = {}
    measure = bench.measure

    def checked(system: Any, store_url: str, *args: Any) -> dict[str, Any]:
        results: dict[str, Any] = measure(system, store_url, *args)
        measured[system.name] = results
        if system is bench.Mlineage:
            _check_server_store(store_url, bench.BATCH)
        return results

    monkeypatch.setattr(bench, "measure", checked)
    assert bench.main(argv) == 0
    return measured


def _check_server_output(measured: dict[str, Any], printed: str, backend: str) -> None:
    """mlineage alone was measured, and the table has its row of each workload, with the
    MLflow columns empty."""
    assert list(measured) == ["mlineage"]
    results = measured["mlineage"]
    assert list(results) == ["log_metrics", "batch_series"]
    for workload, result in results.items():
        assert result.requests == len(result.latencies) == SERVER_SIZES[workload]
        (line,) = _lines_starting(printed, f"  mlineage {workload} ")
        assert line.endswith(" req/s")
        (row,) = _lines_starting(printed, f"| {backend} | {workload} | ")
        assert row.endswith("| - | - | - | >= 3x |"), row


def test_server_on_sqlite_with_no_peers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("bench_server", monkeypatch)

    measured = _run_server(bench, monkeypatch, "sqlite", "--no-peers")

    _check_server_output(measured, capsys.readouterr().out, "sqlite")


def test_server_on_postgresql_without_mlflow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], postgres_server: str
) -> None:
    bench = load("bench_server", monkeypatch)
    _use_suite_postgres(bench, postgres_server, monkeypatch)
    created: list[str] = []  # the script makes a database per system and never drops them
    store_urls = bench.store_urls

    def recorded(*args: Any) -> tuple[str, str]:
        urls: tuple[str, str] = store_urls(*args)
        created.extend(url.rsplit("/", 1)[1] for url in urls)
        return urls

    monkeypatch.setattr(bench, "store_urls", recorded)
    try:
        measured = _run_server(bench, monkeypatch, "postgresql")
    finally:
        _drop_databases(postgres_server, created)

    assert len(created) == 2
    printed = capsys.readouterr().out
    assert "MLflow unavailable" in printed
    _check_server_output(measured, printed, "postgresql")
