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


def test_a_cut_walk_keeps_the_nearest_when_uris_link_at_several_depths(
    sql_store: SqlStore, parent: StoreName
) -> None:
    """Upstream of M, records R1 (2 hops) and R2 (6 hops) read data that W1 and W2 wrote, so
    the walk goes on from W1 and W2 at once, at depths 2 and 6. Behind W1 is a chain (C1 at
    4 hops, C2 at 6, ...), behind W2 a fan of 30 artifacts at 8 hops. Cut at 10 artifacts,
    the answer holds every artifact within 6 hops, C2 too, though the fan is met first."""
    uri_1, uri_2 = "gs://bucket/one.csv", "gs://bucket/two.csv"
    store = sql_store
    chain = [a.name for a in store.create_many(parent, [Artifact(display_name="c4")])]
    for n in (3, 2, 1):
        _, (made,) = store.record_execution(
            parent, Execution(), inputs=[chain[-1]], outputs=[Artifact(display_name=f"c{n}")]
        )
        chain.append(made.name)
    _, (w1,) = store.record_execution(
        parent, Execution(), inputs=[chain[-1]], outputs=[Artifact(uri=uri_1)]
    )
    fan = store.create_many(parent, [Artifact(display_name=f"f{i}") for i in range(30)])
    _, (w2,) = store.record_execution(
        parent, Execution(), inputs=[f.name for f in fan], outputs=[Artifact(uri=uri_2)]
    )
    r1, r2 = store.create_many(parent, [Artifact(uri=uri_1), Artifact(uri=uri_2)])
    names = {"W1": w1.name, "W2": w2.name, "R1": r1.name, "R2": r2.name}
    names.update({f"C{n}": chain[4 - n] for n in (1, 2, 3, 4)})
    _, (x2,) = store.record_execution(
        parent, Execution(), inputs=[r2.name], outputs=[Artifact(display_name="x2")]
    )
    _, (x1,) = store.record_execution(
        parent, Execution(), inputs=[x2.name], outputs=[Artifact(display_name="x1")]
    )
    _, (m,) = store.record_execution(
        parent, Execution(), inputs=[r1.name, x1.name], outputs=[Artifact(display_name="m")]
    )
    names.update({"M": m.name, "X1": x1.name, "X2": x2.name})

    graph = store.query_artifact_lineage_subgraph(
        m.name, max_hops=None, direction="upstream", node_limit=10
    )

    assert graph.truncated
    kept = {a.name for a in graph.artifacts}
    assert len(kept) == 10
    within_6_hops = ["M", "R1", "X1", "W1", "X2", "C1", "R2", "W2", "C2"]
    assert {key for key in within_6_hops if names[key] not in kept} == set()
    assert len(kept - {names[key] for key in within_6_hops}) == 1  # one at 8 hops: C3 or a fan's
