"""The commands on PostgreSQL: `--store postgresql://...` works as a file does."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.conftest import Invoke


def test_the_demo_and_what_it_suggests_on_postgresql(
    cli: Invoke, postgres_url: str, tmp_path: Path
) -> None:
    store = ("--store", postgres_url)
    out = cli("demo", *store, "--data-dir", str(tmp_path)).stdout
    assert "Recorded experiment churn-demo" in out
    assert "--store postgresql" in out
    listed = cli(
        "runs", "list", "-e", "churn-demo", "--sort", "metric.auc desc", "-f", "csv", *store
    ).stdout
    rows = list(csv.DictReader(io.StringIO(listed)))
    aucs = [float(row["metric.auc"]) for row in rows if row["metric.auc"]]
    assert aucs == sorted(aucs, reverse=True)
    assert len(rows) == 9
    lineage = cli("lineage", "churn-demo-production-model", *store).stdout
    assert "read raw-customers" in lineage
    diff = cli("diff", "churn-demo-production-model", "churn-demo-production-model", *store)
    assert "Nothing" in diff.stdout
    assert "churn-demo" in cli("experiments", "list", *store).stdout
