"""A lineage query cut by its node limit does work near the limit, not near the lineage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlineage.store import driver
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Execution, StoreName

WIDTH, LAYERS, LIMIT = 40, 40, 20


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, store_path: Path) -> Iterator[SqlStore]:
    is_sqlite = request.param == "sqlite"
    opened = SqlStore(str(store_path) if is_sqlite else request.getfixturevalue("postgres_url"))
    yield opened
    opened.close()


def _layered(store: SqlStore, parent: StoreName) -> list[list[str]]:
    """LAYERS layers of WIDTH artifacts; each artifact past the first layer is written by
    an execution reading two of the layer before. Returns the names by layer."""
    layers = [[a.name for a in store.create_many(parent, [Artifact() for _ in range(WIDTH)])]]
    for layer in range(1, LAYERS):
        made = []
        for j in range(WIDTH):
            before = layers[-1]
            _, (out,) = store.record_execution(
                parent,
                Execution(display_name=f"e-{layer}-{j}"),
                inputs=[before[j], before[(j + 1) % WIDTH]],
                outputs=[Artifact(display_name=f"a-{layer}-{j}")],
            )
            made.append(out.name)
        layers.append(made)
    return layers


@pytest.mark.parametrize("max_hops", [None, 2 * LAYERS])
def test_a_cut_walk_reads_rows_near_its_limit(
    sql_store: SqlStore, parent: StoreName, monkeypatch: pytest.MonkeyPatch, max_hops: int | None
) -> None:
    """Upstream of an artifact of the last layer lie 820 artifacts; with a limit of 20
    the answer is the nearest 20 and the rows read stay near that, with or without max_hops."""
    layers = _layered(sql_store, parent)
    fetched = [0]
    rows = driver.rows

    def counting(*args: Any, **kwargs: Any) -> list[Any]:
        found = rows(*args, **kwargs)
        fetched[0] += len(found)
        return found

    monkeypatch.setattr(driver, "rows", counting)
    graph = sql_store.query_artifact_lineage_subgraph(
        layers[-1][0], max_hops=max_hops, direction="upstream", node_limit=LIMIT
    )
    assert graph.truncated
    assert len(graph.artifacts) == LIMIT
    # upstream of column 0 of the last layer, d layers back, are columns 0..d
    nearest_needed = next(d for d in range(LAYERS) if sum(range(1, d + 2)) >= LIMIT)
    distance = {name: LAYERS - 1 - i for i, layer in enumerate(layers) for name in layer}
    kept = [distance[a.name] for a in graph.artifacts]
    assert min(kept) == 0
    assert max(kept) <= nearest_needed
    assert fetched[0] <= 10 * LIMIT, f"read {fetched[0]} rows for a {LIMIT}-artifact answer"
