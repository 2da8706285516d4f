"""A small but realistic store for the UI tests: data -> preprocessing -> a sweep of
training runs with loss curves -> models, and one run whose name tries a script injection."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import mlineage
from mlineage.sdk.config import settings
from mlineage.types import Context, StoreName

PROJECT = "ui-test"
LOCATION = "us-central1"
PARENT = StoreName(PROJECT, LOCATION)
EXPERIMENT = "sweep"
INJECTION = "<script>alert('xss')</script>"


@dataclass
class Sample:
    parent: StoreName
    experiment: str
    runs: dict[str, str] = field(default_factory=dict)
    """Run display name -> resource name."""
    models: dict[str, str] = field(default_factory=dict)
    """Run display name -> resource name of the model it wrote."""
    dataset: str = ""
    injected_run: str = ""


def record_sample(data_dir: Path, steps: int = 50) -> Sample:
    """Record the sample through the SDK into the SDK's current store."""
    mlineage.init(project=PROJECT, location=LOCATION, experiment=EXPERIMENT)
    data_dir.mkdir(parents=True, exist_ok=True)
    raw = data_dir / "raw.csv"
    raw.write_text("x,y\n1,2\n3,4\n")
    raw_data = mlineage.Artifact.create(
        "system.Dataset", uri=str(raw), display_name="raw-data", project=PROJECT, location=LOCATION
    )
    clean = data_dir / "clean.csv"
    clean.write_text("x,y\n1,2\n")
    with mlineage.start_execution(
        schema_title="system.ContainerExecution", display_name="preprocess"
    ) as execution:
        execution.assign_input_artifacts([raw_data])
        dataset = mlineage.Artifact.create(
            "system.Dataset",
            uri=str(clean),
            display_name="clean-data",
            project=PROJECT,
            location=LOCATION,
        )
        execution.assign_output_artifacts([dataset])
    sample = Sample(PARENT, f"{PARENT}/contexts/{EXPERIMENT}", dataset=dataset.resource_name)
    configs = [
        ("lr-0-1", 0.1, 32),
        ("lr-0-01", 0.01, 32),
        ("lr-0-001", 0.001, 64),
        ("lr-0-3", 0.3, 64),
    ]
    for index, (name, rate, batch) in enumerate(configs):
        run = mlineage.start_run(name)
        mlineage.log_params({"learning_rate": rate, "batch_size": batch, "optimizer": "adam"})
        for step in range(steps):
            loss = math.exp(-rate * step / 5) + 0.01 * index
            mlineage.log_time_series_metrics({"loss": loss}, step=step)
        mlineage.log_metrics({"accuracy": 0.7 + 0.05 * index, "loss": 0.3 - 0.02 * index})
        run.log_input(dataset)
        model_file = data_dir / f"model-{name}.bin"
        model_file.write_bytes(name.encode())
        model = mlineage.Artifact.create(
            "system.Model",
            uri=str(model_file),
            display_name=f"model-{name}",
            metadata={"framework": "sklearn"},
            project=PROJECT,
            location=LOCATION,
        )
        run.log_output(model)
        mlineage.end_run()
        sample.runs[name] = run.resource_name
        sample.models[name] = model.resource_name
    run = mlineage.start_run("injected")
    mlineage.log_params({"note": INJECTION})
    mlineage.log_time_series_metrics({"loss": 1.0}, step=0)
    mlineage.end_run()
    store = settings.store()
    context = store.get(run.resource_name, Context)
    context.display_name = INJECTION
    store.update(context)
    sample.injected_run = run.resource_name
    return sample
