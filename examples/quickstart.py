"""The README's first example: log a run to the embedded store and print the experiment."""

from datetime import datetime

import mlineage as aiplatform

aiplatform.init(project="my-project", location="us-central1", experiment="churn")
with aiplatform.start_run(f"run-{datetime.now():%Y%m%d-%H%M%S-%f}") as run:
    ds = aiplatform.Artifact.create(
        schema_title="system.Dataset",
        display_name="train",
        uri="file:///data/train.csv",
        metadata={"rows": 100000},
    )
    run.log_input(ds)
    aiplatform.log_params({"learning_rate": 0.01, "max_depth": 5})
    for step in range(100):
        aiplatform.log_time_series_metrics({"loss": 1 / (step + 1)}, step=step)
    aiplatform.log_metrics({"accuracy": 0.92})
    model = aiplatform.Artifact.create(
        schema_title="system.Model", display_name="model", uri="file:///models/m1"
    )
    run.log_output(model)
print(aiplatform.get_experiment_df("churn").to_string(index=False))
