"""The reference walkthrough's Step 6 component, its text unchanged but for the imports.

xgboost, scikit-learn and joblib are not installed here, so small stand-ins for `xgboost`,
`sklearn.metrics` and `joblib` (and `google.cloud.aiplatform`, which the component lists in
packages_to_install) are put in `sys.modules`; the component's own text runs verbatim.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
import types as pytypes
from pathlib import Path
from typing import Any

import pytest

import mlineage
from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Metrics, Model, Output
from mlineage.sdk.config import settings
from tests.dsl.pipelines import executions

SEED = Path("/work/shared/seed/000_c95f2756e8f0de06.txt")
KFP_IMPORTS = (
    "from kfp.v2 import dsl\nfrom kfp.v2.dsl import Input, Output, Dataset, Model, Metrics\n"
)
OUR_IMPORTS = (
    "from mlineage import dsl\nfrom mlineage.dsl import Input, Output, Dataset, Model, Metrics\n"
)


def step6_source() -> str:
    if SEED.exists():
        text = SEED.read_text()
        block = text.split("## Step 6")[1].split("```python\n")[1].split("```")[0]
    else:  # the same text, for checkouts without the shared folder
        block = (Path(__file__).parent / "seed_step6.py.txt").read_text()
    assert KFP_IMPORTS in block
    return block.replace(KFP_IMPORTS, OUR_IMPORTS)


class _Classifier:
    def __init__(self, learning_rate: float, n_estimators: int) -> None:
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.majority = 0

    def fit(self, x: Any, y: Any) -> None:
        self.majority = int(y.mode()[0])

    def predict(self, x: Any) -> list[int]:
        return [self.majority] * len(x)


def _accuracy(y: Any, predicted: list[int]) -> float:
    return sum(int(a == b) for a, b in zip(y, predicted, strict=True)) / len(predicted)


def _dump(model: Any, path: str) -> None:
    with open(path, "wb") as handle:
        pickle.dump(vars(model), handle)


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    xgboost = pytypes.ModuleType("xgboost")
    xgboost.XGBClassifier = _Classifier  # type: ignore[attr-defined]
    sklearn = pytypes.ModuleType("sklearn")
    metrics = pytypes.ModuleType("sklearn.metrics")
    metrics.accuracy_score = _accuracy  # type: ignore[attr-defined]
    sklearn.metrics = metrics  # type: ignore[attr-defined]
    joblib = pytypes.ModuleType("joblib")
    joblib.dump = _dump  # type: ignore[attr-defined]
    aiplatform = pytypes.ModuleType("google.cloud.aiplatform")
    for name, module in {
        "xgboost": xgboost,
        "sklearn": sklearn,
        "sklearn.metrics": metrics,
        "joblib": joblib,
        "google.cloud.aiplatform": aiplatform,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)


def load_component(tmp_path: Path) -> dsl.Component:
    path = tmp_path / "tracked_training.py"
    path.write_text(step6_source())
    spec = importlib.util.spec_from_file_location("tracked_training", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    component = module.tracked_training
    assert isinstance(component, dsl.Component)
    return component


@dsl.component
def make_csv(table: Output[Dataset], rows: int = 20) -> None:
    with open(table.path, "w", encoding="utf-8") as handle:
        handle.write("f1,f2,label\n")
        for i in range(rows):
            handle.write(f"{i},{i * 2},{int(i % 3 == 0)}\n")


@dsl.component
def check_model(model: Input[Model], report: Output[Metrics]) -> None:
    report.log_metric("model_bytes", len(Path(model.path).read_bytes()))


def test_step6_component_runs_in_a_pipeline_and_records_lineage_and_metrics(
    tmp_path: Path, stand_ins: None
) -> None:
    tracked_training = load_component(tmp_path)
    assert tracked_training.packages_to_install == [
        "google-cloud-aiplatform",
        "xgboost",
        "pandas",
        "scikit-learn",
    ]

    @dsl.pipeline(name="tracked")
    def tracked(learning_rate: float = 0.1) -> None:
        data = make_csv(rows=30)
        trained = tracked_training(
            training_data=data.outputs["table"], learning_rate=learning_rate, n_estimators=7
        )
        check_model(model=trained.outputs["model_output"])

    mlineage.init(experiment="step6")
    run = dsl.run_pipeline(tracked, {"learning_rate": 0.3}, pipeline_root=str(tmp_path / "out"))

    metrics = run.tasks["tracked-training"].outputs["metrics_output"]
    assert metrics.metadata == {"accuracy": 2 / 3, "learning_rate": 0.3, "n_estimators": 7}
    model = run.tasks["tracked-training"].outputs["model_output"]
    assert pickle.loads(Path(model.path).read_bytes())["n_estimators"] == 7

    store = settings.store()
    graph = store.query_artifact_lineage_subgraph(model.resource_name, direction="upstream")
    by_name = {a.name: a for a in graph.artifacts} | {e.name: e for e in graph.executions}
    chain = {
        (by_name[e.execution].display_name, e.type.name, by_name[e.artifact].display_name)
        for e in graph.events
    }
    assert chain == {
        ("make-csv", "OUTPUT", "table"),
        ("tracked-training", "INPUT", "table"),
        ("tracked-training", "OUTPUT", "model_output"),
    }
    execution = executions(run)["tracked-training"]
    assert execution.metadata["learning_rate"] == 0.3
    assert execution.metadata["n_estimators"] == 7
    assert execution.metadata["_local"]["not_applied"]["base_image"] == "python:3.10"
    recorded = store.get(metrics.resource_name, types.Artifact)
    assert recorded.schema_title == "system.Metrics"
    assert recorded.metadata["accuracy"] == pytest.approx(2 / 3)

    row = mlineage.get_experiment_df().set_index("run_name").loc[run.run_id]
    assert row["run_type"] == "system.PipelineRun"
    assert row["param.learning_rate"] == 0.3
    assert row["metric.accuracy"] == pytest.approx(2 / 3)
    assert row["metric.n_estimators"] == 7
    assert row["metric.model_bytes"] > 0


def test_a_missing_package_fails_the_task_naming_it_before_the_function_runs(
    tmp_path: Path,
) -> None:
    ran: list[bool] = []

    @dsl.component(packages_to_install=["pandas", "surely-not-installed-pkg==1.0"])
    def needs_things(out: Output[Dataset]) -> None:
        ran.append(True)

    with pytest.raises(dsl.PipelineTaskError, match="surely-not-installed-pkg") as caught:
        dsl.run_pipeline(lambda: needs_things(), pipeline_root=str(tmp_path))
    assert ran == []
    assert isinstance(caught.value.__cause__, dsl.MissingPackageError)
    assert "'pandas'" not in str(caught.value)
    (execution,) = executions(caught.value.run).values()
    assert execution.state is types.ExecutionState.FAILED
    assert "surely-not-installed-pkg==1.0" in execution.metadata["_error"]
