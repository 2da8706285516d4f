"""`mlineage experiments list` and `runs list|show|compare` against a temporary store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from tests.cli.conftest import Invoke

import mlineage


def _run(name: str, lr: float, accuracy: float, optimizer: str = "adam", model: str = "") -> None:
    with mlineage.start_run(name) as run:
        run.log_input(
            mlineage.Artifact.create("system.Dataset", display_name="train", uri="gs://b/t.csv")
        )
        mlineage.log_params({"learning_rate": lr, "optimizer": optimizer, "epochs": 3})
        for step in range(5):
            mlineage.log_time_series_metrics({"loss": 1.0 / (step + 1)}, step=step)
        mlineage.log_metrics({"accuracy": accuracy})
        run.log_output(
            mlineage.Artifact.create(
                "system.Model",
                resource_id=model or f"model-{name}",
                display_name="model",
                uri=f"gs://b/models/{name}",
            )
        )


@pytest.fixture(autouse=True)
def sweep() -> None:
    mlineage.init(experiment="sweep")
    _run("r1", 0.1, 0.70)
    _run("r2", 0.2, 0.90, optimizer="sgd")
    _run("r3", 0.3, 0.80)
    mlineage.init(experiment="other")
    mlineage.init(experiment="sweep")


def _order(text: str, *names: str) -> list[str]:
    """`names` in the order they first appear in `text`."""
    return sorted(names, key=text.index)


def test_experiments_list_counts_runs(cli: Invoke) -> None:
    rows = json.loads(cli("experiments", "list", "--format", "json").stdout)
    assert {row["name"]: row["runs"] for row in rows} == {"sweep": 3, "other": 0}
    table = cli("experiments", "list").stdout
    assert "sweep" in table
    assert "other" in table


def test_the_table_has_the_runs_sorted_by_the_metric(cli: Invoke) -> None:
    best_first = cli("runs", "list", "-e", "sweep", "--sort", "metric.accuracy desc").stdout
    assert _order(best_first, "r1", "r2", "r3") == ["r2", "r3", "r1"]
    assert "accuracy" in best_first
    worst_first = cli("runs", "list", "-e", "sweep", "--sort", "metric.accuracy").stdout
    assert _order(worst_first, "r1", "r2", "r3") == ["r1", "r3", "r2"]
    by_param = cli("runs", "list", "-e", "sweep", "--sort", "-param.learning_rate").stdout
    assert _order(by_param, "r1", "r2", "r3") == ["r3", "r2", "r1"]


def test_columns_that_never_change_are_named_below_the_table(cli: Invoke) -> None:
    out = cli("runs", "list", "-e", "sweep").stdout
    assert "Same in every run:" in out
    assert "param.epochs=3" in out


def test_the_filter_narrows_the_runs(cli: Invoke) -> None:
    out = cli("runs", "list", "-e", "sweep", "--filter", "metric.accuracy > 0.75").stdout
    assert "2 runs" in out
    assert "r1" not in out
    assert {"r2", "r3"} <= set(out.split())
    out = cli("runs", "list", "-e", "sweep", "--filter", 'param.optimizer = "sgd"').stdout
    assert "1 run" in out
    assert "r2" in out


def test_a_bad_filter_is_one_line_naming_the_position(
    fails: Callable[..., tuple[int, str]],
) -> None:
    code, err = fails("runs", "list", "-e", "sweep", "--filter", "metric.accuracy >")
    assert code == 1
    assert err.count("\n") == 1
    assert "filter: at position 18" in err
    assert "Traceback" not in err


def test_csv_text_a_spreadsheet_would_run_as_a_formula_is_defused(cli: Invoke) -> None:
    with mlineage.start_run("r-formula"):
        mlineage.log_params({"note": '=HYPERLINK("http://x.example","click")', "delta": -1})
    text = cli("runs", "list", "-e", "sweep", "--format", "csv").stdout
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["run_name"] == "r-formula")
    assert row["param.note"] == '\'=HYPERLINK("http://x.example","click")'
    assert row["param.delta"] == "-1"  # a number is not text: left as it is


def test_csv_and_json_parse(cli: Invoke) -> None:
    with mlineage.start_run("r0"):  # no params: the others' ints stay ints beside it
        mlineage.log_metrics({"accuracy": 0.1})
    text = cli(
        "runs", "list", "-e", "sweep", "--sort", "metric.accuracy desc", "--format", "csv"
    ).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["run_name"] for row in rows] == ["r2", "r3", "r1", "r0"]
    assert rows[0]["metric.accuracy"] == "0.9"
    assert rows[3]["param.epochs"] == ""
    assert rows[0]["param.epochs"] == "3"  # a column the table leaves out is in the CSV
    data = json.loads(cli("runs", "list", "-e", "sweep", "--format", "json").stdout)
    assert [(r["run_name"], r["param.learning_rate"], r["metric.accuracy"]) for r in data] == [
        ("r1", 0.1, 0.7),
        ("r2", 0.2, 0.9),
        ("r3", 0.3, 0.8),
        ("r0", None, 0.1),
    ]


def test_columns_choose_what_is_shown(cli: Invoke, fails: Callable[..., tuple[int, str]]) -> None:
    text = cli(
        "runs",
        "list",
        "-e",
        "sweep",
        "--columns",
        "metric.accuracy,time_series_metric.loss",
        "--format",
        "csv",
    ).stdout
    assert text.splitlines()[0] == "run_name,metric.accuracy,time_series_metric.loss"
    assert text.splitlines()[1] == "r1,0.7,0.2"
    code, err = fails("runs", "list", "-e", "sweep", "--columns", "metric.acc")
    assert code == 1
    assert "columns: no column metric.acc; the columns are" in err


def test_an_unknown_experiment_is_one_clear_line(fails: Callable[..., tuple[int, str]]) -> None:
    code, err = fails("runs", "list", "-e", "nope")
    assert (code, err.strip()) == (1, "error: NOT_FOUND: Experiment nope not found")


def test_runs_show(cli: Invoke) -> None:
    out = cli("runs", "show", "r2", "-e", "sweep").stdout
    for expected in ("r2", "COMPLETE", "learning_rate", "0.2", "accuracy", "0.9", "loss"):
        assert expected in out
    assert "model-r2" in out  # its output
    details = json.loads(cli("runs", "show", "r2", "--format", "json").stdout)
    assert details["experiment"] == "sweep"
    assert details["params"] == {"learning_rate": 0.2, "optimizer": "sgd", "epochs": 3}
    assert details["time_series"]["loss"]["points"] == 5
    assert details["time_series"]["loss"]["last"] == pytest.approx(0.2)
    assert [a["id"] for a in details["outputs"]] == ["model-r2"]
    assert [a["display_name"] for a in details["inputs"]] == ["train"]


def test_a_run_name_in_two_experiments_needs_experiment(
    cli: Invoke, fails: Callable[..., tuple[int, str]]
) -> None:
    mlineage.init(experiment="other")
    _run("r1", 0.5, 0.5, model="other-model")
    code, err = fails("runs", "show", "r1")
    assert code == 1
    assert "run 'r1' is in several experiments (other, sweep): give --experiment" in err
    assert '"learning_rate": 0.5' in cli("runs", "show", "r1", "-e", "other", "-f", "json").stdout


def test_runs_compare_marks_what_differs(cli: Invoke) -> None:
    rows = json.loads(cli("runs", "compare", "r1", "r2", "-e", "sweep", "-f", "json").stdout)
    by_key = {row["key"]: (row["r1"], row["r2"]) for row in rows}
    assert by_key["param.optimizer"] == ("adam", "sgd")
    assert by_key["param.epochs"] == (3, 3)
    assert by_key["metric.accuracy"] == (0.7, 0.9)
    only = cli("runs", "compare", "r1", "r2", "-e", "sweep", "--only-diff").stdout
    assert "param.optimizer" in only
    assert "param.epochs" not in only
    assert "state" not in only.split()


def test_markup_in_names_is_shown_as_text(cli: Invoke) -> None:
    with mlineage.start_run("r4"):
        mlineage.log_params({"optimizer": "[red]adam[/red] [/]"})
    out = cli("runs", "list", "-e", "sweep", "--columns", "param.optimizer").stdout
    assert "[red]adam[/red] [/]" in out
