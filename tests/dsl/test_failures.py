"""A failing task: FAILED with its message, downstream tasks CANCELLED, the run FAILED."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Output
from mlineage.sdk.config import settings
from tests.dsl.pipelines import executions, generate, states


@dsl.component
def explode(data: Input[Dataset], out: Output[Dataset], why: str = "bad rows") -> None:
    raise ValueError(f"cannot split: {why}")


@dsl.component
def after_explode(data: Input[Dataset]) -> int:
    return 1


@dsl.component
def independent() -> str:
    return "fine"


@dsl.pipeline(name="breaks")
def breaks() -> None:
    generated = generate()
    exploded = explode(data=generated.outputs["data"])
    after_explode(data=exploded.outputs["out"])
    independent().after(generated)


def test_failure_is_recorded_and_raised(tmp_path: Path) -> None:
    with pytest.raises(dsl.PipelineTaskError, match=r"task explode .* cannot split") as caught:
        dsl.run_pipeline(breaks, pipeline_root=str(tmp_path))

    run = caught.value.run
    assert isinstance(caught.value.__cause__, ValueError)
    assert caught.value.task.name == "explode"
    assert run.state is types.ExecutionState.FAILED
    assert states(run) == {
        "generate": "COMPLETE",
        "explode": "FAILED",
        "after-explode": "CANCELLED",
        "independent": "COMPLETE",
    }
    recorded = executions(run)
    assert recorded["explode"].metadata["_error"] == "ValueError: cannot split: bad rows"
    assert recorded["explode"].metadata["why"] == "bad rows"
    assert "upstream task explode is FAILED" in recorded["after-explode"].metadata["_reason"]
    assert settings.store().get_run(run.resource_name).state is types.ExecutionState.FAILED


def test_raise_on_error_false_returns_the_failed_run(tmp_path: Path) -> None:
    run = dsl.run_pipeline(breaks, pipeline_root=str(tmp_path), raise_on_error=False)
    assert run.state is types.ExecutionState.FAILED
    assert [t.name for t in run.failed_tasks] == ["explode"]
    assert run.tasks["explode"].error == "ValueError: cannot split: bad rows"


def test_failed_executions_are_never_reused(tmp_path: Path) -> None:
    dsl.run_pipeline(breaks, pipeline_root=str(tmp_path), raise_on_error=False)
    again = dsl.run_pipeline(breaks, pipeline_root=str(tmp_path), raise_on_error=False)
    assert states(again)["explode"] == "FAILED"
    assert states(again)["generate"] == "CACHED"


def test_a_wrong_return_type_fails_the_task(tmp_path: Path) -> None:
    @dsl.component
    def says_number() -> int:
        return "three"  # type: ignore[return-value]

    with pytest.raises(dsl.PipelineTaskError, match="should be int, got str"):
        says_number()
