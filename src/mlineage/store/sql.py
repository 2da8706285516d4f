"""`SqlStore`: the store contract over SQLAlchemy Core, for SQLite and PostgreSQL.

Each method is one read or one write transaction; the work itself lives in the module of
its aggregate (nodes, graph, lineage, schemas, runs).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import NotFoundError
from mlineage.store import (
    codec,
    dialects,
    downsample,
    graph,
    lineage,
    migrate,
    nodes,
    pagination,
    recording,
    run_lists,
    run_view,
    runs,
    schema,
    schemas,
    stores,
    tensorboards,
)
from mlineage.store.base import (
    Direction,
    ExperimentRow,
    Node,
    RunInfo,
    Tensorboard,
    TensorboardExperiment,
    TensorboardRun,
    TensorboardTimeSeries,
    TimeSeriesData,
)
from mlineage.store.engine import Database, create_engine
from mlineage.store.scope import StoreIds, mark_uncommitted
from mlineage.types import (
    Artifact,
    Context,
    Event,
    Execution,
    ExecutionState,
    LineageGraph,
    MetadataSchema,
    MetadataStoreInfo,
    Page,
    ResourceName,
    StoreName,
    TimeSeriesPoint,
)
from mlineage.validation import ParamValue, check_metrics, check_params, check_step

T = TypeVar("T")


class SqlStore:
    """A metadata store in a SQL database."""

    def __init__(self, url: str, *, auto_upgrade: bool | None = None) -> None:
        """Open the store at `url` (a path, `sqlite:///...` or `postgresql://...`).

        An embedded SQLite store is created or upgraded on open; a PostgreSQL store must be
        upgraded explicitly (`mlineage db upgrade`) unless `auto_upgrade=True`.
        """
        self.url = url
        self._stores = StoreIds()
        self.db = Database(create_engine(url), on_rollback=self._stores.clear)
        if auto_upgrade is None:
            auto_upgrade = self.db.dialect == "sqlite"
        migrate.ensure_current(self.db, auto_upgrade=auto_upgrade)

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"SqlStore({self.db.engine.url.render_as_string(hide_password=True)!r})"

    # -- metadata stores ----------------------------------------------------------------
    def get_metadata_store(self, store: StoreName) -> MetadataStoreInfo:
        with self.db.read() as connection:
            return stores.get(connection, store)

    def list_metadata_stores(
        self,
        project: str,
        location: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[MetadataStoreInfo]:
        with self.db.read() as connection:
            return stores.list_page(
                connection, project, location, page_size=page_size, page_token=page_token
            )

    def get_or_create_metadata_store(
        self, store: StoreName, description: str = ""
    ) -> MetadataStoreInfo:
        def work(connection: Connection) -> MetadataStoreInfo:
            self._store_pk(connection, store, create=True, description=description)
            return stores.get(connection, store)

        return self.db.write(work)

    def _store_pk(
        self,
        connection: Connection,
        store: StoreName,
        *,
        create: bool = False,
        description: str = "",
    ) -> int:
        """The row id of `store`; a store is created on first use (as `default` is in Vertex)."""
        pk = self._stores.find(connection, store)
        if pk is not None:
            return pk
        if not create:
            raise NotFoundError(f"MetadataStore {store} not found")
        now = codec.now_micros()
        mark_uncommitted(connection, store)
        table = schema.metadata_stores
        connection.execute(  # another process may create it at the same moment: that is fine
            dialects.insert(self.db.dialect, table)
            .values(
                project=store.project,
                location=store.location,
                store_id=store.store,
                description=description,
                create_time=now,
                update_time=now,
            )
            .on_conflict_do_nothing()
        )
        return self._stores.require(connection, store)

    # -- artifacts, executions, contexts --------------------------------------------------
    def create(self, parent: StoreName, resource: Node, resource_id: str | None = None) -> Node:
        spec = nodes.spec_of(type(resource))

        def work(connection: Connection) -> Node:
            store_pk = self._store_pk(connection, parent, create=True)
            if isinstance(resource, Context):  # a run context registers its run
                created = run_view.create(
                    connection, self._stores, store_pk, parent, [resource], [resource_id]
                )
                return created[0]
            return nodes.insert(connection, store_pk, parent, spec, [resource], [resource_id])[0]

        return self.db.write(work)

    def create_many(self, parent: StoreName, resources: Sequence[Node]) -> list[Node]:
        if not resources:
            return []
        spec = nodes.spec_of(type(resources[0]))
        ids = [r.resource_id or None for r in resources]

        def work(connection: Connection) -> list[Node]:
            store_pk = self._store_pk(connection, parent, create=True)
            if spec.kind == "contexts":
                contexts: Any = resources
                return run_view.create(connection, self._stores, store_pk, parent, contexts, ids)  # type: ignore[return-value]
            return nodes.insert(connection, store_pk, parent, spec, resources, ids)

        return self.db.write(work)

    def get(self, name: str, kind: type[Node]) -> Node:
        spec = nodes.spec_of(kind)
        with self.db.read() as connection:
            node = nodes.fetch(connection, self._stores, name, spec)
            if isinstance(node, Context):
                run_view.present(connection, self._stores, [node])
            return node

    def list(
        self,
        parent: StoreName,
        kind: type[Node],
        *,
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Node]:
        spec = nodes.spec_of(kind)
        with self.db.read() as connection:
            store_pk = self._stores.find(connection, parent)
            if store_pk is None:
                # bad input is an error even here
                nodes.check_query(spec, filter, order_by, page_size, page_token)
                return Page([])
            page = nodes.list_page(
                connection,
                store_pk,
                parent,
                spec,
                filter=filter,
                order_by=order_by,
                page_size=page_size,
                page_token=page_token,
            )
            if spec.kind == "contexts":
                run_view.present(connection, self._stores, page.items)  # type: ignore[arg-type]
            return page

    def update(self, resource: Node) -> Node:
        spec = nodes.spec_of(type(resource))
        if isinstance(resource, Context):  # a run's `_params`, `_metrics`, `_state`
            context = resource
            return self.db.write(lambda c: run_view.update(c, self._stores, context))
        return self.db.write(lambda c: nodes.update(c, self._stores, spec, resource))

    def delete(self, name: str, kind: type[Node], etag: str | None = None) -> None:
        spec = nodes.spec_of(kind)
        self.db.write(lambda c: nodes.delete(c, self._stores, spec, name, etag))

    # -- context graph ------------------------------------------------------------------
    def add_context_artifacts_and_executions(
        self, context: str, artifacts: Sequence[str] = (), executions: Sequence[str] = ()
    ) -> None:
        self.db.write(lambda c: graph.add_members(c, self._stores, context, artifacts, executions))

    def add_context_children(self, context: str, children: Sequence[str]) -> None:
        def work(connection: Connection) -> None:
            graph.add_children(connection, self._stores, context, children)
            run_view.link_experiment(connection, self._stores, context, children)

        self.db.write(work)

    def remove_context_children(self, context: str, children: Sequence[str]) -> None:
        def work(connection: Connection) -> None:
            graph.remove_children(connection, self._stores, context, children)
            run_view.unlink_experiment(connection, self._stores, context, children)

        self.db.write(work)

    # -- events and lineage -------------------------------------------------------------
    def add_execution_events(
        self, execution: str, events: Sequence[Event], *, contexts: Sequence[str] = ()
    ) -> None:
        self.db.write(lambda c: recording.add_events(c, self._stores, execution, events, contexts))

    def record_execution(
        self,
        parent: StoreName,
        execution: Execution,
        execution_id: str | None = None,
        *,
        inputs: Sequence[str] = (),
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        def work(connection: Connection) -> tuple[Execution, builtins.list[Artifact]]:
            store_pk = self._store_pk(connection, parent, create=True)
            return recording.record_execution(
                connection,
                self._stores,
                store_pk,
                parent,
                execution,
                execution_id,
                inputs=inputs,
                outputs=outputs,
                contexts=contexts,
            )

        return self.db.write(work)

    def finish_execution(
        self,
        execution: Execution,
        *,
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        return self.db.write(
            lambda c: recording.finish_execution(c, self._stores, execution, outputs, contexts)
        )

    def query_execution_inputs_and_outputs(self, execution: str) -> LineageGraph:
        with self.db.read() as connection:
            return lineage.inputs_and_outputs(connection, self._stores, execution)

    def query_artifact_lineage_subgraph(
        self,
        artifact: str,
        *,
        max_hops: int | None = None,
        filter: str | None = None,
        direction: Direction = "both",
        node_limit: int | None = None,
    ) -> LineageGraph:
        with self.db.read() as connection:
            return lineage.artifact_subgraph(
                connection,
                self._stores,
                artifact,
                max_hops=max_hops,
                filter=filter,
                direction=direction,
                node_limit=node_limit,
            )

    def query_context_lineage_subgraph(self, context: str) -> LineageGraph:
        with self.db.read() as connection:
            return lineage.context_subgraph(connection, self._stores, context)

    # -- metadata schemas ---------------------------------------------------------------
    def create_metadata_schema(
        self, parent: StoreName, schema: MetadataSchema, schema_id: str | None = None
    ) -> MetadataSchema:
        def work(connection: Connection) -> MetadataSchema:
            store_pk = self._store_pk(connection, parent, create=True)
            return schemas.create(connection, store_pk, parent, schema, schema_id)

        return self.db.write(work)

    def get_metadata_schema(self, name: str) -> MetadataSchema:
        with self.db.read() as connection:
            parent = ResourceName.parse(name, "metadataSchemas").parent
            return schemas.get(connection, self._stores.find(connection, parent), name)

    def list_metadata_schemas(
        self, parent: StoreName, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[MetadataSchema]:
        limit = pagination.check_page_size(page_size)
        fingerprint = pagination.query_fingerprint("metadataSchemas")
        after = 0
        if page_token:
            (after,) = pagination.decode_token(page_token, fingerprint, 1)
            pagination.check_values([after], sa.Integer())
        with self.db.read() as connection:
            store_pk = self._stores.find(connection, parent)
            if store_pk is None:
                return Page([])
            rows = schemas.list_rows(
                connection, store_pk, parent, after, None if limit is None else limit + 1
            )
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            return Page([s for _, s in rows], pagination.encode_token([rows[-1][0]], fingerprint))
        return Page([s for _, s in rows])

    # -- experiment runs ----------------------------------------------------------------
    def create_run(
        self,
        parent: StoreName,
        context: Context,
        run_id: str,
        *,
        experiment: str | None,
        state: ExecutionState = ExecutionState.RUNNING,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        def work(connection: Connection) -> RunInfo:
            store_pk = self._store_pk(connection, parent, create=True)
            info = runs.create(
                connection,
                self._stores,
                store_pk,
                parent,
                context,
                run_id,
                experiment=experiment,
                state=state,
                provenance=provenance,
            )
            run_view.present(connection, self._stores, [info.context])
            return info

        return self.db.write(work)

    def get_run(self, run: str) -> RunInfo:
        with self.db.read() as connection:
            info = runs.get(connection, self._stores, run)
            run_view.present(connection, self._stores, [info.context])
            return info

    def list_runs(
        self,
        experiment: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[RunInfo]:
        with self.db.read() as connection:
            return run_lists.list_runs(
                connection, self._stores, experiment, filter, page_size, page_token
            )

    def count_runs(self, experiment: str, *, filter: str | None = None) -> int:
        with self.db.read() as connection:
            return run_lists.count_runs(connection, self._stores, experiment, filter)

    def update_run(
        self,
        run: str,
        *,
        state: ExecutionState | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        def work(connection: Connection) -> RunInfo:
            info = runs.update(connection, self._stores, run, state=state, provenance=provenance)
            run_view.present(connection, self._stores, [info.context])
            return info

        return self.db.write(work)

    def _run_write(self, work: Callable[[Connection], T]) -> T:
        """A write to a run's tables, which may use a remembered run id; when that run was
        deleted meanwhile the foreign key refuses the write, and it is retried afresh."""
        try:
            return self.db.write(work)
        except sa.exc.IntegrityError:  # the failed write cleared the caches
            return self.db.write(work)

    def log_params(self, run: str, params: Mapping[str, ParamValue]) -> None:
        checked = check_params(params)
        self._run_write(lambda c: runs.log_params(c, self._stores, run, checked))

    def log_metrics(self, run: str, metrics: Mapping[str, float]) -> None:
        checked = check_metrics(metrics)
        self._run_write(lambda c: runs.log_metrics(c, self._stores, run, checked))

    def write_time_series(
        self,
        run: str,
        metrics: Mapping[str, float],
        *,
        step: int | None = None,
        wall_time: datetime | None = None,
        request_id: str | None = None,
    ) -> int:
        checked = check_metrics(metrics)
        if step is not None:
            step = check_step(step)
        if request_id is not None:
            request_id = runs.check_request_id(request_id)
        return self._run_write(
            lambda c: runs.write_time_series(
                c, self._stores, run, checked, step, wall_time, request_id
            )
        )

    def write_time_series_points(self, run: str, points: Sequence[TimeSeriesPoint]) -> None:
        for point in points:
            check_metrics({point.key: point.value}, "points")
            check_step(point.step)
        self._run_write(lambda c: runs.write_points(c, self._stores, run, points))

    def get_params(self, run: str) -> dict[str, ParamValue]:
        with self.db.read() as connection:
            return runs.get_params(connection, self._stores, run)

    def get_metrics(self, run: str) -> dict[str, float]:
        with self.db.read() as connection:
            return runs.get_metrics(connection, self._stores, run)

    def read_time_series(
        self, run: str, keys: Sequence[str] | None = None, *, max_points: int | None = None
    ) -> builtins.list[TimeSeriesPoint]:
        if max_points is not None:
            max_points = downsample.check_max_points(max_points)
        with self.db.read() as connection:
            return runs.read_time_series(connection, self._stores, run, keys, max_points)

    def experiment_rows(
        self,
        experiment: str,
        *,
        include_time_series: bool = True,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[ExperimentRow]:
        with self.db.read() as connection:
            return run_lists.experiment_rows(
                connection,
                self._stores,
                experiment,
                include_time_series,
                filter,
                page_size,
                page_token,
            )

    # -- Vertex AI TensorboardService (store.tensorboards) -----------------------------------
    def create_tensorboard(self, parent: str, tensorboard: Tensorboard) -> Tensorboard:
        return self.db.write(lambda c: tensorboards.create_tensorboard(c, parent, tensorboard))

    def get_tensorboard(self, name: str) -> Tensorboard:
        with self.db.read() as connection:
            return tensorboards.get_tensorboard(connection, name)

    def list_tensorboards(
        self,
        parent: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Tensorboard]:
        with self.db.read() as connection:
            items, token = tensorboards.list_tensorboards(
                connection, parent, filter=filter, page_size=page_size, page_token=page_token
            )
        return Page(items, token)

    def create_tensorboard_experiment(
        self, parent: str, experiment: TensorboardExperiment, experiment_id: str
    ) -> TensorboardExperiment:
        store = tensorboards.TensorboardName.parse(parent, "tensorboard", "parent").store

        def work(connection: Connection) -> TensorboardExperiment:
            store_pk = self._store_pk(connection, store, create=True)
            return tensorboards.create_tensorboard_experiment(
                connection, self._stores, store_pk, parent, experiment, experiment_id
            )

        return self.db.write(work)

    def get_tensorboard_experiment(self, name: str) -> TensorboardExperiment:
        with self.db.read() as connection:
            return tensorboards.get_tensorboard_experiment(connection, self._stores, name)

    def create_tensorboard_run(
        self, parent: str, run: TensorboardRun, run_id: str
    ) -> TensorboardRun:
        store = tensorboards.TensorboardName.parse(parent, "experiment", "parent").store

        def work(connection: Connection) -> TensorboardRun:
            store_pk = self._store_pk(connection, store, create=True)
            return tensorboards.create_tensorboard_run(
                connection, self._stores, store_pk, parent, run, run_id
            )

        return self.db.write(work)

    def get_tensorboard_run(self, name: str) -> TensorboardRun:
        with self.db.read() as connection:
            return tensorboards.get_tensorboard_run(connection, self._stores, name)

    def delete_tensorboard_run(self, name: str) -> None:
        self.db.write(lambda c: tensorboards.delete_tensorboard_run(c, self._stores, name))

    def create_tensorboard_time_series(
        self, parent: str, series: TensorboardTimeSeries
    ) -> TensorboardTimeSeries:
        return self.db.write(
            lambda c: tensorboards.create_tensorboard_time_series(c, self._stores, parent, series)
        )

    def get_tensorboard_time_series(self, name: str) -> TensorboardTimeSeries:
        with self.db.read() as connection:
            return tensorboards.get_tensorboard_time_series(connection, self._stores, name)

    def list_tensorboard_time_series(
        self, parent: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[TensorboardTimeSeries]:
        with self.db.read() as connection:
            items, token = tensorboards.list_tensorboard_time_series(
                connection, self._stores, parent, page_size=page_size, page_token=page_token
            )
        return Page(items, token)

    def write_tensorboard_run_data(self, run: str, data: Sequence[TimeSeriesData]) -> None:
        self._run_write(lambda c: tensorboards.write_run_data(c, self._stores, run, data))

    def read_tensorboard_time_series_data(
        self, tensorboard: str, time_series: Sequence[str], *, max_points: int | None = None
    ) -> builtins.list[TimeSeriesData]:
        with self.db.read() as connection:
            return tensorboards.read_time_series_data(
                connection, self._stores, tensorboard, time_series, max_points=max_points
            )
