"""`subprocess=True`: every task runs in its own Python process, recorded the same way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Metrics, Output
from tests.dsl.pipelines import executions, small_pipeline, states


@dsl.component
def where_am_i(out: Output[Dataset]) -> int:
    import os

    with open(out.path, "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
    out.metadata["written_by"] = "child"
    return os.getpid()


@dsl.component
def read_pid(data: Input[Dataset], metrics: Output[Metrics]) -> None:
    with open(data.path, encoding="utf-8") as handle:
        metrics.log_metric("pid", int(handle.read()))


def test_tasks_run_in_their_own_processes(tmp_path: Path) -> None:
    @dsl.pipeline(name="pids")
    def pids() -> None:
        read_pid(data=where_am_i().outputs["out"])

    run = dsl.run_pipeline(pids, pipeline_root=str(tmp_path), subprocess=True)

    pid = run.tasks["where-am-i"].outputs["Output"]
    assert pid != os.getpid()
    assert run.tasks["where-am-i"].outputs["out"].metadata == {"written_by": "child"}
    assert run.tasks["read-pid"].outputs["metrics"].metadata == {"pid": pid}
    assert executions(run)["where-am-i"].metadata["_mode"] == "subprocess"


def test_the_small_pipeline_gives_the_same_results_in_subprocesses(tmp_path: Path) -> None:
    run = dsl.run_pipeline(
        small_pipeline, {"rows": 5}, pipeline_root=str(tmp_path), subprocess=True
    )
    assert states(run) == {"generate": "COMPLETE", "train": "COMPLETE", "evaluate": "COMPLETE"}
    assert run.tasks["train"].outputs["rows"] == 5
    assert run.tasks["train"].outputs["note"] == "trained"
    assert run.tasks["evaluate"].outputs["metrics"].metadata == {"accuracy": 0.6}
    assert executions(run)["generate"].metadata["_outputs"] == {}


def test_a_failure_in_a_subprocess_is_recorded_with_its_message(tmp_path: Path) -> None:
    @dsl.component
    def fails_far_away(limit: int) -> int:
        raise RuntimeError(f"limit {limit} exceeded")

    with pytest.raises(dsl.PipelineTaskError, match="RuntimeError: limit 3 exceeded") as caught:
        dsl.run_pipeline(
            lambda: fails_far_away(limit=3), pipeline_root=str(tmp_path), subprocess=True
        )
    (execution,) = executions(caught.value.run).values()
    assert execution.state is types.ExecutionState.FAILED
    assert execution.metadata["_error"] == "RuntimeError: limit 3 exceeded"
