"""Reliability: two server processes on one PostgreSQL, 16 clients logging runs for 60 seconds,
one server killed (SIGKILL) and restarted in the middle.

Afterwards every acknowledged write is present exactly once, and no client saw an error: the
clients of the killed server only waited (their calls were retried until it came back).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from mlineage.client import RestStore
from mlineage.client.transport import RetryPolicy
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, ExecutionState, StoreName
from tests.live_server import ServerProcess

CLIENTS = 16
DURATION = 60.0
KILL_AT = 20.0
DOWN_FOR = 5.0
SERIES_POINTS = 3
PARENT = StoreName("reliability", "us-central1")


@dataclass
class Ledger:
    """What one client was told succeeded."""

    runs: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    longest_call: float = 0.0


def _log_runs(
    store: RestStore, client: int, experiment: str, ledger: Ledger, stop: threading.Event
) -> None:
    n = 0
    while not stop.is_set():
        began = time.monotonic()
        run_id = f"c{client}-r{n}"
        context = Context(schema_title="system.ExperimentRun", display_name=run_id)
        run = store.create_run(PARENT, context, run_id, experiment=experiment).context.name
        ledger.runs.append(run_id)
        store.log_params(run, {"client": client, "n": n})
        store.log_metrics(run, {"accuracy": n / 1000})
        for point in range(SERIES_POINTS):
            store.write_time_series(run, {"loss": 1 / (point + 1)})  # the store picks the step
        model = store.create(
            PARENT, Artifact(schema_title="system.Model", uri=f"file:///m/{run_id}")
        )
        ledger.artifacts.append(model.name)
        store.update_run(run, state=ExecutionState.COMPLETE)
        ledger.longest_call = max(ledger.longest_call, time.monotonic() - began)
        n += 1


@pytest.mark.slow
def test_every_acknowledged_write_lands_once_across_a_server_kill(postgres_url: str) -> None:
    servers = [ServerProcess(postgres_url), ServerProcess(postgres_url)]
    for server in servers:
        server.start()
    try:
        setup = RestStore(servers[1].url)
        experiment = setup.create(
            PARENT, Context(schema_title="system.Experiment", display_name="load"), "load"
        ).name
        setup.close()

        ledgers = [Ledger() for _ in range(CLIENTS)]
        errors: list[tuple[int, BaseException]] = []
        stop = threading.Event()

        def client(index: int) -> None:
            store = RestStore(servers[index % 2].url, retry=RetryPolicy(timeout=60.0))
            try:
                _log_runs(store, index, experiment, ledgers[index], stop)
            except BaseException as exc:
                errors.append((index, exc))
            finally:
                store.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(KILL_AT)
        killed = servers[0]
        killed.kill()
        time.sleep(DOWN_FOR)
        killed.start()  # the same port: its clients reconnect to it
        time.sleep(DURATION - KILL_AT - DOWN_FOR)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for server in servers:
            server.stop()

    assert errors == []
    # The killed server's clients waited out the restart rather than failing.
    assert all(ledgers[i].longest_call >= DOWN_FOR / 2 for i in range(0, CLIENTS, 2))

    store = SqlStore(postgres_url)
    try:
        acknowledged = {run for ledger in ledgers for run in ledger.runs}
        rows = store.experiment_rows(experiment).items
        assert sorted(row.run_name for row in rows) == sorted(acknowledged)  # no run twice
        assert sum(len(ledger.runs) for ledger in ledgers) == len(acknowledged)
        for row in rows:
            client, n = (int(part[1:]) for part in row.run_name.split("-"))
            assert row.params == {"client": client, "n": n}
            assert row.metrics == {"accuracy": n / 1000}
            assert row.state is ExecutionState.COMPLETE
        for run_id in acknowledged:
            points = store.read_time_series(f"{PARENT}/contexts/{run_id}")
            assert [p.step for p in points] == list(range(SERIES_POINTS)), run_id
        models = []
        page_token = None
        while True:
            page = store.list(
                PARENT, Artifact, filter='schema_title="system.Model"', page_size=1000,
                page_token=page_token,
            )  # fmt: skip
            models.extend(page.items)
            page_token = page.next_page_token
            if not page_token:
                break
        written = sorted(name for ledger in ledgers for name in ledger.artifacts)
        assert sorted(model.name for model in models) == written
        assert len({model.uri for model in models}) == len(models)  # no retried create twice
    finally:
        store.close()
