"""`mlineage artifacts list|show`, `lineage` and `diff` against a temporary store."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from tests.cli.conftest import Invoke

import mlineage


def _step(name: str, inputs: list[str], output: str, schema: str, **params: float) -> None:
    with mlineage.start_run(name) as run:
        for artifact in inputs:
            run.log_input(artifact)
        mlineage.log_params(dict(params))
        mlineage.log_metrics({"accuracy": 0.5 + params.get("lr", 0)})
        run.log_output(
            mlineage.Artifact.create(
                schema,
                resource_id=output,
                display_name=output.rsplit("-", 1)[0],
                uri=f"gs://b/{output}",
            )
        )


@pytest.fixture(autouse=True)
def chain() -> None:
    """raw -> prep -> clean -> train-a -> model-a, and clean -> train-b -> model-b."""
    mlineage.init(experiment="chain")
    mlineage.Artifact.create(
        "system.Dataset", resource_id="raw", display_name="raw", uri="gs://b/raw"
    )
    _step("prep", ["raw"], "clean-1", "system.Dataset", scaling=1)
    _step("train-a", ["clean-1"], "model-a", "system.Model", lr=0.1)
    _step("train-b", ["clean-1"], "model-b", "system.Model", lr=0.2)


def test_artifacts_list_and_filter(cli: Invoke) -> None:
    everything = json.loads(cli("artifacts", "list", "--format", "json").stdout)
    assert [a["id"] for a in everything] == ["model-b", "model-a", "clean-1", "raw"]
    models = cli("artifacts", "list", "--filter", 'schema_title="system.Model"').stdout
    assert "model-a" in models
    assert "clean-1" not in models
    assert "2 artifacts" in models
    first = cli("artifacts", "list", "--limit", "1", "--order-by", "create_time")
    assert "raw" in first.stdout
    assert "--limit shows more" in first.stderr


def test_artifacts_show(cli: Invoke) -> None:
    out = cli("artifacts", "show", "clean-1").stdout
    assert "gs://b/clean-1" in out
    assert "Made by" in out
    assert "Read by" in out
    details = json.loads(cli("artifacts", "show", "clean-1", "--format", "json").stdout)
    assert [e["display_name"] for e in details["made_by"]] == ["prep"]
    assert sorted(e["display_name"] for e in details["read_by"]) == ["train-a", "train-b"]


def test_a_display_name_shared_by_two_is_ambiguous(
    cli: Invoke, fails: Callable[..., tuple[int, str]]
) -> None:
    assert "gs://b/clean-1" in cli("artifacts", "show", "clean").stdout  # unique: fine
    code, err = fails("artifacts", "show", "model")
    assert code == 1
    assert "'model' is the display name of 2 artifacts (model-b, model-a): give an id" in err
    code, err = fails("artifacts", "show", "nothing-here")
    assert (code, err.strip()) == (
        1,
        "error: NOT_FOUND: no artifact has the id or display name 'nothing-here'",
    )


def _lines(text: str, *needles: str) -> list[int]:
    """The line number of each needle's first line."""
    lines = text.splitlines()
    return [next(i for i, line in enumerate(lines) if needle in line) for needle in needles]


def test_the_lineage_tree_shows_the_upstream_chain(cli: Invoke) -> None:
    out = cli("lineage", "model-a", "--upstream").stdout
    positions = _lines(out, "model-a", "made by train-a", "read clean", "made by prep", "read raw")
    assert positions == sorted(positions)
    assert "model-b" not in out
    indents = [
        len(out.splitlines()[i]) - len(out.splitlines()[i].lstrip("│ ├└─")) for i in positions
    ]
    assert indents == sorted(indents)
    assert len(set(indents)) == len(indents)  # each a level deeper
    near = cli("lineage", "model-a", "--depth", "2").stdout
    assert "read clean" in near
    assert "prep" not in near


def test_downstream_and_both(cli: Invoke, fails: Callable[..., tuple[int, str]]) -> None:
    out = cli("lineage", "raw", "--downstream").stdout
    for needle in ("read by prep", "made clean", "read by train-a", "model-a", "model-b"):
        assert needle in out
    assert _lines(out, "read by prep", "made clean", "read by train-a") == sorted(
        _lines(out, "read by prep", "made clean", "read by train-a")
    )
    both = cli("lineage", "clean-1", "--both").stdout
    assert _lines(both, "upstream", "read raw", "downstream", "model-a") == sorted(
        _lines(both, "upstream", "read raw", "downstream", "model-a")
    )
    code, err = fails("lineage", "raw", "--upstream", "--downstream")
    assert code == 1
    assert "choose one of them" in err


def test_lineage_as_json_is_the_rest_apis_subgraph(cli: Invoke) -> None:
    data = json.loads(cli("lineage", "model-a", "--format", "json").stdout)
    assert sorted(_ids(data["artifacts"])) == ["clean-1", "model-a", "raw"]
    assert sorted(e["displayName"] for e in data["executions"]) == ["prep", "train-a"]
    model = next(a for a in data["artifacts"] if a["name"].endswith("/model-a"))
    assert (model["schemaTitle"], model["uri"]) == ("system.Model", "gs://b/model-a")
    made = [e for e in data["events"] if e["artifact"].endswith("/model-a")]
    assert [e["type"] for e in made] == ["OUTPUT"]
    assert len(data["events"]) == 4  # raw -> prep -> clean-1 -> train-a -> model-a
    assert data["truncated"] is False
    near = json.loads(cli("lineage", "model-a", "--depth", "1", "-f", "json").stdout)
    assert _ids(near["artifacts"]) == ["model-a"]


def _ids(nodes: list[dict[str, str]]) -> list[str]:
    return [node["name"].rsplit("/", 1)[-1] for node in nodes]


def test_a_record_of_the_same_data_links_to_its_maker(cli: Invoke) -> None:
    """A later run reads gs://b/clean-1 through a new record: the tree follows the URI."""
    again = mlineage.Artifact.create(
        "system.Dataset", display_name="clean-again", uri="gs://b/clean-1"
    )
    _step("train-c", [again.resource_name], "model-c", "system.Model", lr=0.3)
    out = cli("lineage", "model-c").stdout
    positions = _lines(out, "read clean-again", "same data as clean", "made by prep", "read raw")
    assert positions == sorted(positions)


def test_diff_names_the_changed_param(cli: Invoke) -> None:
    out = cli("diff", "model-a", "model-b").stdout
    assert "What changed:" in out
    assert "lr: 0.1 -> 0.2 (+0.1)" in out
    assert "accuracy: 0.6 -> 0.7 (+0.1)" in out
    data = json.loads(cli("diff", "model-a", "model-b", "--format", "json").stdout)
    assert data["changed"] is True
    assert data["params"] == [{"key": "lr", "before": 0.1, "after": 0.2}]
    runs = cli("diff", "train-a", "train-b", "-e", "chain").stdout
    assert "What changed: train-a -> train-b" in runs
    assert "lr: 0.1 -> 0.2" in runs
    same = cli("diff", "model-a", "model-a").stdout
    assert "Nothing" in same


def test_diff_of_something_unknown(fails: Callable[..., tuple[int, str]]) -> None:
    code, err = fails("diff", "model-a", "no-such-thing")
    assert (code, err.strip()) == (
        1,
        "error: NOT_FOUND: no artifact or run is named 'no-such-thing'",
    )
