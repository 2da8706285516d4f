"""The demo's retraining pipeline, written with `mlineage.dsl` as a KFP user would write it."""

from __future__ import annotations

from mlineage import dsl
from mlineage.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

__all__ = ["churn_retrain"]


@dsl.component(base_image="python:3.11")
def prepare_data(
    raw: Input[Dataset],
    train_data: Output[Dataset],
    test_data: Output[Dataset],
    null_handling: str = "drop",
) -> int:
    """Clean, split and standardise the raw export; returns the training rows."""
    from pathlib import Path

    from mlineage.demo import data

    split = data.prepare(
        Path(raw.path), Path(train_data.path), Path(test_data.path), null_handling=null_handling
    )
    train_data.metadata.update({"rows": split.train_rows, "dropped_rows": split.dropped_rows})
    test_data.metadata["rows"] = split.test_rows
    return split.train_rows


@dsl.component(base_image="python:3.11")
def train_model(
    train_data: Input[Dataset],
    test_data: Input[Dataset],
    model: Output[Model],
    learning_rate: float = 0.1,
    l2: float = 0.0,
) -> float:
    """Train a logistic regression; returns its last validation loss."""
    from pathlib import Path

    from mlineage.demo import data
    from mlineage.demo import model as demo_model

    rows, labels = data.read_table(Path(train_data.path))
    val_rows, val_labels = data.read_table(Path(test_data.path))
    config = demo_model.Config(learning_rate=learning_rate, l2=l2, seed=3)
    trained = demo_model.train(config, rows, labels, val_rows, val_labels)
    demo_model.save(Path(model.path), trained.weights, data.FEATURES, config)
    model.metadata.update({"framework": "logistic-regression", **config.params()})
    return round(trained.val_loss[-1], 6)


@dsl.component(base_image="python:3.11")
def evaluate_model(
    model: Input[Model],
    test_data: Input[Dataset],
    metrics: Output[Metrics],
    roc: Output[ClassificationMetrics],
) -> float:
    """Score the model on held-out data; returns its accuracy."""
    from pathlib import Path

    from mlineage.demo import data
    from mlineage.demo import model as demo_model

    rows, labels = data.read_table(Path(test_data.path))
    result = demo_model.evaluate(demo_model.load(Path(model.path)), rows, labels)
    for key, value in result.metrics.items():
        metrics.log_metric(key, value)
    roc.log_roc_curve(result.fpr, result.tpr, result.thresholds)
    roc.log_confusion_matrix(["stayed", "churned"], result.matrix)
    with open(metrics.path, "w", encoding="utf-8") as handle:
        handle.write(repr(result.metrics) + "\n")
    return result.metrics["accuracy"]


@dsl.pipeline(name="churn-retrain", description="Monthly retraining of the churn model.")
def churn_retrain(
    raw_uri: str, null_handling: str = "fill_zero", learning_rate: float = 0.3, l2: float = 0.001
) -> None:
    raw = Dataset(name="raw-customers", uri=raw_uri)
    prepared = prepare_data(raw=raw, null_handling=null_handling)
    trained = train_model(
        train_data=prepared.outputs["train_data"],
        test_data=prepared.outputs["test_data"],
        learning_rate=learning_rate,
        l2=l2,
    )
    evaluate_model(model=trained.outputs["model"], test_data=prepared.outputs["test_data"])
