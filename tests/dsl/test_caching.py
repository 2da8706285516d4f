"""Execution caching: same code, parameters and input content -> CACHED, reusing the original."""

from __future__ import annotations

from pathlib import Path

from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Model, Output
from mlineage.sdk.config import settings
from tests.dsl.pipelines import executions, small_pipeline, states


def test_a_second_identical_run_is_cached_and_reuses_the_outputs(tmp_path: Path) -> None:
    first = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    second = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))

    assert states(second) == {"generate": "CACHED", "train": "CACHED", "evaluate": "CACHED"}
    assert second.state is types.ExecutionState.COMPLETE
    originals, cached = executions(first), executions(second)
    assert cached["train"].metadata["_cached_from"] == originals["train"].name
    assert cached["train"].metadata["_cache_key"] == originals["train"].metadata["_cache_key"]
    assert cached["train"].metadata["learning_rate"] == 0.1
    model = second.tasks["train"].outputs["model"]
    assert model.uri == first.tasks["train"].outputs["model"].uri
    assert model.resource_name == first.tasks["train"].outputs["model"].resource_name
    assert second.tasks["train"].outputs["rows"] == 10
    graph = settings.store().query_execution_inputs_and_outputs(cached["train"].name)
    produced = [e.artifact for e in graph.events if e.type is types.EventType.OUTPUT]
    assert produced == [model.resource_name]
    assert settings.store().get_metrics(second.resource_name) == {"accuracy": 0.6}


def test_a_changed_parameter_misses_and_so_does_everything_downstream(tmp_path: Path) -> None:
    dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    changed = dsl.run_pipeline(small_pipeline, {"learning_rate": 0.2}, pipeline_root=str(tmp_path))
    assert states(changed) == {"generate": "CACHED", "train": "COMPLETE", "evaluate": "COMPLETE"}

    rows = dsl.run_pipeline(small_pipeline, {"rows": 11}, pipeline_root=str(tmp_path))
    assert states(rows) == {"generate": "COMPLETE", "train": "COMPLETE", "evaluate": "COMPLETE"}


@dsl.component
def count_lines(data: Input[Dataset]) -> int:
    with open(data.path, encoding="utf-8") as handle:
        return sum(1 for _ in handle)


def test_changed_input_content_misses_and_same_content_elsewhere_hits(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("a\nb\n")
    assert count_lines(data=Dataset(uri=str(path))).output == 2
    assert count_lines(data=Dataset(uri=str(path))).state is types.ExecutionState.CACHED

    path.write_text("a\nb\nc\n")
    again = count_lines(data=Dataset(uri=str(path)))
    assert again.state is types.ExecutionState.COMPLETE
    assert again.output == 3

    copy = tmp_path / "copy.csv"
    copy.write_text("a\nb\nc\n")
    moved = count_lines(data=Dataset(uri=str(copy)))
    assert moved.state is types.ExecutionState.CACHED
    assert moved.output == 3


def test_changed_component_code_misses(tmp_path: Path) -> None:
    def version_one() -> dsl.Component:
        @dsl.component
        def shout(word: str) -> str:
            return word.upper()

        return shout

    def version_two() -> dsl.Component:
        @dsl.component
        def shout(word: str) -> str:
            return word.upper() + "!"

        return shout

    assert version_one()(word="hi").output == "HI"
    assert version_one()(word="hi").state is types.ExecutionState.CACHED
    changed = version_two()(word="hi")
    assert changed.state is types.ExecutionState.COMPLETE
    assert changed.output == "HI!"


@dsl.component
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    Path(model.path).write_text(Path(data.path).read_text())


def test_caching_can_be_turned_off_per_run_and_per_task(tmp_path: Path) -> None:
    dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    off = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path), enable_caching=False)
    assert set(states(off).values()) == {"COMPLETE"}

    from tests.dsl.pipelines import generate, train

    @dsl.pipeline(name="per-task")
    def per_task() -> None:
        generated = generate()
        train(data=generated.outputs["data"]).set_caching_options(False)

    assert states(dsl.run_pipeline(per_task, pipeline_root=str(tmp_path))) == {
        "generate": "CACHED",
        "train": "COMPLETE",
    }


def test_deleted_output_files_are_not_reused(tmp_path: Path) -> None:
    first = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    Path(first.tasks["generate"].outputs["data"].path).unlink()
    again = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    assert states(again)["generate"] == "COMPLETE"


@dsl.component
def describe(data: Input[Dataset]) -> str:
    return data.uri


def test_remote_inputs_at_other_places_are_not_the_same_input(tmp_path: Path) -> None:
    """A gs:// input has no local content to hash: its URI is part of the cache key."""
    dsl.init(pipeline_root=str(tmp_path))
    first = describe(data=Dataset(uri="gs://bucket/one.csv"))
    other = describe(data=Dataset(uri="gs://bucket/two.csv"))
    again = describe(data=Dataset(uri="gs://bucket/one.csv"))
    assert first.state is types.ExecutionState.COMPLETE
    assert other.state is types.ExecutionState.COMPLETE
    assert other.output == "gs://bucket/two.csv"
    assert again.state is types.ExecutionState.CACHED


def test_the_same_input_object_with_new_content_misses(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("a\n")
    data = Dataset(uri=str(path))
    assert count_lines(data=data).output == 1
    path.write_text("a\nb\n")
    again = count_lines(data=data)
    assert again.state is types.ExecutionState.COMPLETE
    assert again.output == 2


def test_an_output_changed_after_the_run_is_not_reused(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text("x\n")
    first = fit(data=Dataset(uri=str(raw)))
    Path(first.outputs["model"].path).write_text("tampered\n")
    second = fit(data=Dataset(uri=str(raw)))
    assert second.state is types.ExecutionState.COMPLETE
    assert Path(second.outputs["model"].path).read_text() == "x\n"
