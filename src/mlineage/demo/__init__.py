"""`record_demo()`: a realistic example recorded into the current store.

A churn model's life, in one experiment (`churn-demo`, or `churn-demo-2`, ... when that name
is taken, so running it again never fails and never touches the first one):

    raw-customers (CSV) -> preprocess -> train-data, test-data
        -> sweep-1 .. sweep-4 (4 configurations; params, loss curves, metrics, a model each)
        -> evaluate (picks the champion: the "last good" model)
    a month later: raw-customers changes -> preprocess-refresh (other null handling)
        -> production (the champion's configuration with a changed learning rate)
    and the same retraining as a pipeline run of `mlineage.dsl` (`churn-retrain`).

Every file is real and small, written under `data_dir/<experiment>/`; artifacts get their
content fingerprints. `diff(last_good_model, production_model)` shows a changed parameter,
changed data and a changed upstream step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mlineage.demo import data
from mlineage.demo import model as demo_model
from mlineage.errors import FailedPreconditionError
from mlineage.sdk.config import settings
from mlineage.sdk.experiments import Experiment, ExperimentRun
from mlineage.sdk.resources import Artifact
from mlineage.store import default_store_url
from mlineage.types import TimeSeriesPoint

__all__ = ["DEMO_EXPERIMENT", "STEPS", "DemoSummary", "Progress", "default_data_dir", "record_demo"]

DEMO_EXPERIMENT = "churn-demo"
STEPS = 10
"""How many times `record_demo` reports progress (once per step done)."""

Progress = Callable[[int, int, str], None]
"""Called as `progress(done, total, what_is_next)`."""

SWEEP = (
    demo_model.Config(learning_rate=0.01, l2=0.0, batch_size=32, momentum=0.0, seed=1),
    demo_model.Config(learning_rate=0.1, l2=0.0, batch_size=32, momentum=0.0, seed=2),
    demo_model.Config(learning_rate=0.1, l2=0.001, batch_size=64, momentum=0.9, seed=3),
    demo_model.Config(learning_rate=1.5, l2=0.0, batch_size=16, momentum=0.9, seed=4),
)
"""The four configurations of the sweep."""
PRODUCTION_LEARNING_RATE = 0.8


@dataclass(frozen=True)
class DemoSummary:
    """What `record_demo` recorded."""

    experiment: str
    """Name of the demo experiment."""
    runs: tuple[str, ...]
    """Its experiment runs, in the order they were recorded (the pipeline run aside)."""
    champion: str
    """The sweep run the evaluation picked (its model is the "last good" one)."""
    champion_metrics: dict[str, float]
    production_metrics: dict[str, float]
    raw_data: str
    """Resource name of the first raw export."""
    last_good_model: str
    """Resource name of the champion's model."""
    production_model: str
    """Resource name of the model trained after the data refresh."""
    pipeline_run: str
    """Resource name of the `churn-retrain` pipeline run."""
    data_dir: Path
    """The folder holding this demo's files."""
    note: str = ""
    """Set when the usual experiment name was taken and another was used."""


def default_data_dir() -> Path:
    """`demo-data/` beside the store file, or `~/.mlineage/demo-data` for a database URL."""
    url = settings.store_url or default_store_url()
    if url.startswith("sqlite:///"):
        url = url.removeprefix("sqlite:///")
    elif "://" in url:
        return Path("~/.mlineage/demo-data").expanduser()
    return Path(url).expanduser().resolve().parent / "demo-data"


def _free_name(base: str) -> str:
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}-{n}"
        taken = Experiment.get(name) is not None or Artifact.get(f"{name}-raw-customers-v1")
        if not taken:
            return name
    raise FailedPreconditionError(f"experiments {base} to {base}-999 all exist: delete some")


@contextmanager
def _current_experiment(name: str) -> Iterator[None]:
    """Set the SDK's current experiment (pipeline runs join it) and restore it after."""
    saved, settings.experiment = settings.experiment, name
    try:
        yield
    finally:
        settings.experiment = saved


class _Recorder:
    def __init__(self, experiment: Experiment, root: Path, progress: Progress | None) -> None:
        self.experiment = experiment
        self.root = root
        self.progress = progress
        self.done = 0
        self.runs: list[str] = []

    def step(self, what: str) -> None:
        if self.progress is not None:
            self.progress(self.done, STEPS, what)
        self.done += 1

    def artifact(self, schema: str, key: str, display: str, path: Path, **meta: object) -> Artifact:
        return Artifact.create(
            schema,
            resource_id=f"{self.experiment.name}-{key}",
            display_name=display,
            uri=str(path),
            metadata=dict(meta),
        )

    def run(self, name: str) -> ExperimentRun:
        self.runs.append(name)
        return ExperimentRun.create(name, experiment=self.experiment)

    def preprocess(self, name: str, raw: Artifact, version: str, null_handling: str) -> Artifact:
        train_path = self.root / "prepared" / "train.csv"
        test_path = self.root / "prepared" / "test.csv"
        with self.run(name) as run:
            run.log_input(raw)
            run.log_params(
                {"null_handling": null_handling, "scaling": "standard", "test_fraction": 0.2}
            )
            split = data.prepare(Path(raw.uri), train_path, test_path, null_handling=null_handling)
            run.log_metrics(
                {
                    "train_rows": split.train_rows,
                    "test_rows": split.test_rows,
                    "dropped_rows": split.dropped_rows,
                }
            )
            train = self.artifact(
                "system.Dataset",
                f"train-data-{version}",
                "train-data",
                train_path,
                rows=split.train_rows,
                features=list(data.FEATURES),
            )
            test = self.artifact(
                "system.Dataset",
                f"test-data-{version}",
                "test-data",
                test_path,
                rows=split.test_rows,
            )
            run.log_output(train)
            run.log_output(test)
        return train

    def train(
        self, name: str, config: demo_model.Config, train: Artifact, test: Artifact | None = None
    ) -> tuple[Artifact, dict[str, float]]:
        rows, labels = data.read_table(Path(train.uri))
        test_path = Path(test.uri) if test else Path(train.uri).with_name("test.csv")
        val_rows, val_labels = data.read_table(test_path)
        with self.run(name) as run:
            run.log_input(train)
            run.log_params(config.params())
            trained = demo_model.train(config, rows, labels, val_rows, val_labels)
            start = datetime.now(UTC) - timedelta(seconds=0.25 * config.steps)
            points = [
                TimeSeriesPoint(key, step, round(value, 6), start + timedelta(seconds=0.25 * step))
                for key, series in (("loss", trained.loss), ("val_loss", trained.val_loss))
                for step, value in enumerate(series)
            ]
            settings.store().write_time_series_points(run.resource_name, points)
            result = demo_model.evaluate(trained.weights, val_rows, val_labels)
            run.log_metrics(result.metrics)
            path = self.root / "models" / name / "model.json"
            demo_model.save(path, trained.weights, data.FEATURES, config)
            model = self.artifact(
                "system.Model",
                f"{name}-model",
                "churn-model",
                path,
                framework="logistic-regression",
                **config.params(),
            )
            run.log_output(model)
        return model, result.metrics

    def evaluate(self, models: dict[str, tuple[Artifact, dict[str, float]]], test: Artifact) -> str:
        champion = max(models, key=lambda run: models[run][1]["auc"])
        rows, labels = data.read_table(Path(test.uri))
        with self.run("evaluate") as run:
            run.log_input(test)
            for model, _ in models.values():
                run.log_input(model)
            run.log_params(
                {"selection_metric": "auc", "candidates": len(models), "champion": champion}
            )
            weights = demo_model.load(Path(models[champion][0].uri))
            result = demo_model.evaluate(weights, rows, labels)
            run.log_metrics(result.metrics)
            run.log_classification_metrics(
                labels=["stayed", "churned"],
                matrix=result.matrix,
                fpr=result.fpr,
                tpr=result.tpr,
                threshold=result.thresholds,
                display_name="champion-roc",
            )
            report = self.root / "reports" / "evaluation.json"
            report.parent.mkdir(parents=True, exist_ok=True)
            scores = {name: metrics for name, (_, metrics) in models.items()}
            report.write_text(
                json.dumps({"champion": champion, "candidates": scores}, indent=2) + "\n",
                encoding="utf-8",
            )
            run.log_output(
                self.artifact(
                    "system.Metrics",
                    "evaluation-report",
                    "evaluation-report",
                    report,
                    champion=champion,
                )
            )
        return champion


def record_demo(
    *,
    experiment: str = DEMO_EXPERIMENT,
    data_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Record the demo into the SDK's current store (see the module docstring)."""
    name = _free_name(experiment)
    note = (
        f"experiment {experiment} already exists (an earlier demo?): recorded a new one, {name}"
        if name != experiment
        else ""
    )
    base = Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir()
    root = base / name
    exp = Experiment.create(
        name, description="mlineage demo: a churn model from raw data to production"
    )
    rec = _Recorder(exp, root, progress)

    rec.step("writing the raw customer export")
    raw_path = root / "raw" / "customers.csv"
    rows = data.write_raw(raw_path)
    raw = rec.artifact(
        "system.Dataset",
        "raw-customers-v1",
        "raw-customers",
        raw_path,
        rows=rows,
        export="2024-01",
    )
    rec.step("preprocessing")
    train = rec.preprocess("preprocess", raw, "v1", null_handling="drop")
    test = Artifact(f"{name}-test-data-v1")
    models: dict[str, tuple[Artifact, dict[str, float]]] = {}
    for i, config in enumerate(SWEEP, start=1):
        rec.step(f"training sweep-{i} of {len(SWEEP)}")
        models[f"sweep-{i}"] = rec.train(f"sweep-{i}", config, train, test)
    rec.step("evaluating the sweep")
    champion = rec.evaluate(models, test)

    rec.step("a month later: refreshing the data")
    rows = data.write_raw(raw_path, refresh=True)
    raw_v2 = rec.artifact(
        "system.Dataset",
        "raw-customers-v2",
        "raw-customers",
        raw_path,
        rows=rows,
        export="2024-02",
    )
    train_v2 = rec.preprocess("preprocess-refresh", raw_v2, "v2", null_handling="fill_zero")
    rec.step("training the production model")
    best = SWEEP[int(champion.removeprefix("sweep-")) - 1]
    production_config = demo_model.Config(
        learning_rate=PRODUCTION_LEARNING_RATE,
        l2=best.l2,
        batch_size=best.batch_size,
        momentum=best.momentum,
        steps=best.steps,
        seed=best.seed,
    )
    production, production_metrics = rec.train(
        "production", production_config, train_v2, Artifact(f"{name}-test-data-v2")
    )

    rec.step("running the churn-retrain pipeline")
    from mlineage.demo.pipeline import churn_retrain
    from mlineage.dsl import run_pipeline

    with _current_experiment(name):
        pipeline_run = run_pipeline(
            churn_retrain,
            {"raw_uri": str(raw_path)},
            pipeline_root=str(root / "pipelines"),
            enable_caching=True,
        )
    if progress is not None:
        progress(STEPS, STEPS, "done")
    return DemoSummary(
        experiment=name,
        runs=tuple(rec.runs),
        champion=champion,
        champion_metrics=models[champion][1],
        production_metrics=production_metrics,
        raw_data=raw.resource_name,
        last_good_model=models[champion][0].resource_name,
        production_model=production.resource_name,
        pipeline_run=pipeline_run.resource_name,
        data_dir=root,
        note=note,
    )
