"""Run contexts as Vertex AI sees them: `_params`, `_metrics` and `_state` in the metadata.

Vertex AI keeps an experiment run's params, summary metrics and state inside the metadata
of its context (schema `system.ExperimentRun` or `system.PipelineRun`), and its SDK writes
them by replacing the whole context. mlineage keeps them in narrow tables (`store.runs`);
this module is the bridge, so every backend shows one picture whichever way was written:

- Reading: a run context's metadata shows `_params`, `_metrics` and `_state` assembled from
  the run tables (three queries for a whole page of contexts, none per row). They are never
  stored in the context row itself.
- Creating a context with a run schema title registers its run record (state from `_state`,
  RUNNING by default); `_params`/`_metrics` in its metadata go to the run tables.
- Updating a run context whose metadata carries `_params`/`_metrics`/`_state` writes them to
  the run tables. The Vertex SDK sends the whole merged dict every time, so keys are only
  added or replaced: a key left out of `_params` or `_metrics` keeps its value (Vertex has
  no API to remove one).
- `add_context_children(experiment, runs)` makes an experiment (`system.Experiment`) the
  experiment of runs that have none yet; `remove_context_children` undoes it.

NaN and infinities cannot be JSON metadata; they show as the strings "NaN", "Infinity" and
"-Infinity" (protobuf's JSON spelling of such doubles) and are read back as floats.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError
from mlineage.store import codec, nodes, runs, schema
from mlineage.store.scope import StoreIds, resolve
from mlineage.types import Context, ExecutionState, ResourceName, StoreName
from mlineage.validation import ParamValue, check_metrics, check_params

__all__ = [
    "EXPERIMENT_TITLE",
    "METRICS_KEY",
    "PARAMS_KEY",
    "RUN_TITLES",
    "STATE_KEY",
    "create",
    "link_experiment",
    "present",
    "unlink_experiment",
    "update",
]

RUN_TITLES = frozenset({"system.ExperimentRun", "system.PipelineRun"})
EXPERIMENT_TITLE = "system.Experiment"
PARAMS_KEY, METRICS_KEY, STATE_KEY = "_params", "_metrics", "_state"
_RUN_KEYS = (PARAMS_KEY, METRICS_KEY, STATE_KEY)
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclasses.dataclass(slots=True)
class _RunFields:
    """What a run context's metadata says about its run, checked."""

    params: dict[str, ParamValue] | None = None
    metrics: dict[str, float] | None = None
    state: ExecutionState | None = None


def _json_number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _from_json_numbers(values: Any, field: str) -> Any:
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(field, f"must be a JSON object, got {type(values).__name__}")
    return {
        k: _SPECIAL_FLOATS[v] if isinstance(v, str) and v in _SPECIAL_FLOATS else v
        for k, v in values.items()
    }


def _split(metadata: Mapping[str, Any]) -> tuple[dict[str, Any], _RunFields]:
    """The plain metadata, and the run fields `_params`, `_metrics`, `_state` checked."""
    plain = {k: v for k, v in metadata.items() if k not in _RUN_KEYS}
    fields = _RunFields()
    if metadata.get(PARAMS_KEY) is not None:
        raw = metadata[PARAMS_KEY]
        if not isinstance(raw, Mapping):
            raise InvalidArgumentError(
                f"metadata.{PARAMS_KEY}", f"must be a JSON object, got {type(raw).__name__}"
            )
        fields.params = check_params(raw)  # strings stay strings, even "NaN"
    if metadata.get(METRICS_KEY) is not None:
        fields.metrics = check_metrics(
            _from_json_numbers(metadata[METRICS_KEY], f"metadata.{METRICS_KEY}"),
            f"metadata.{METRICS_KEY}",
        )
    if metadata.get(STATE_KEY) is not None:
        fields.state = _state(metadata[STATE_KEY])
    return plain, fields


def _state(value: Any) -> ExecutionState:
    if isinstance(value, str) and value in ExecutionState.__members__:
        return ExecutionState[value]
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value == int(value)
    ):
        try:
            return ExecutionState(int(value))
        except ValueError:
            pass
    raise InvalidArgumentError(
        f"metadata.{STATE_KEY}",
        f"must be an execution state name ({', '.join(ExecutionState.__members__)}), got {value!r}",
    )


def _write_fields(
    connection: Connection, stores: StoreIds, run: str, run_pk: int, fields: _RunFields
) -> None:
    if fields.params:
        runs.log_params(connection, stores, run, fields.params)
    if fields.metrics:
        runs.log_metrics(connection, stores, run, fields.metrics)
    if fields.state is not None:
        table = schema.runs
        terminal = fields.state in runs.TERMINAL_STATES
        # Only a change of state moves end_time: the SDK resends `_state` with every update.
        connection.execute(
            table.update()
            .where(table.c.context_id == run_pk, table.c.state != fields.state.name)
            .values(state=fields.state.name, end_time=codec.now_micros() if terminal else None)
        )


def create(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    contexts: Sequence[Context],
    resource_ids: Sequence[str | None],
) -> list[Context]:
    """Insert contexts; those with a run schema title become runs (see the module doc)."""
    spec = nodes.SPECS[Context]
    if not any(c.schema_title in RUN_TITLES for c in contexts):
        return nodes.insert(connection, store_pk, store, spec, contexts, resource_ids)
    stored: list[Context] = []
    fields: list[_RunFields | None] = []
    for context in contexts:
        if context.schema_title in RUN_TITLES and isinstance(context.metadata, Mapping):
            plain, run_fields = _split(context.metadata)
            stored.append(dataclasses.replace(context, metadata=plain))
            fields.append(run_fields)
        else:
            stored.append(context)
            fields.append(None)
    now = codec.now_micros()  # the contexts' create time, kept in their run records too
    created = nodes.insert_with_ids(
        connection, store_pk, store, spec, stored, resource_ids, now=now
    )
    records = []
    for (pk, context), given in zip(created, fields, strict=True):
        if given is None:
            continue
        state = given.state or ExecutionState.RUNNING
        records.append(
            {
                "context_id": pk,
                "experiment_id": None,
                "create_time": now,
                "run_type": context.schema_title,
                "state": state.name,
                "provenance": {},
                "start_time": now,
                "end_time": now if state in runs.TERMINAL_STATES else None,
            }
        )
    if records:
        connection.execute(schema.runs.insert(), records)
    for (pk, context), given in zip(created, fields, strict=True):
        if given is not None:
            stores.remember_run(context.name, pk)
            _write_fields(
                connection, stores, context.name, pk, dataclasses.replace(given, state=None)
            )
    return present(connection, stores, [c for _, c in created])


def update(connection: Connection, stores: StoreIds, resource: Context) -> Context:
    """Update a context; a run's `_params`, `_metrics` and `_state` go to the run tables."""
    spec = nodes.SPECS[Context]
    ref = resolve(connection, stores, resource.name, "contexts")
    is_run = connection.execute(
        sa.select(schema.runs.c.context_id).where(schema.runs.c.context_id == ref.id)
    ).first()
    if is_run is None or not isinstance(resource.metadata, Mapping):
        return present(connection, stores, [nodes.update(connection, stores, spec, resource)])[0]
    plain, fields = _split(resource.metadata)
    updated = nodes.update(connection, stores, spec, dataclasses.replace(resource, metadata=plain))
    _write_fields(connection, stores, updated.name, ref.id, fields)
    return present(connection, stores, [updated])[0]


def _experiment_runs(
    connection: Connection, stores: StoreIds, context: str, children: Sequence[str]
) -> tuple[int, sa.ColumnElement[bool]] | None:
    """The experiment's row id and a condition on `runs` selecting `children`, or None when
    `context` is not an experiment."""
    ref = resolve(connection, stores, context, "contexts")
    contexts = schema.contexts
    title = connection.execute(
        sa.select(contexts.c.schema_title).where(contexts.c.id == ref.id)
    ).scalar_one()
    if title != EXPERIMENT_TITLE or not children:
        return None
    child_ids = sa.select(contexts.c.id).where(
        contexts.c.store_id == ref.store_pk,
        contexts.c.resource_id.in_(
            [ResourceName.parse(c, "contexts").resource_id for c in children]
        ),
    )
    return ref.id, schema.runs.c.context_id.in_(child_ids.scalar_subquery())


def link_experiment(
    connection: Connection, stores: StoreIds, context: str, children: Sequence[str]
) -> None:
    """After `add_context_children`: runs without an experiment join `context` when it is
    an experiment."""
    found = _experiment_runs(connection, stores, context, children)
    if found is not None:
        experiment_pk, chosen = found
        table = schema.runs
        connection.execute(
            table.update()
            .where(chosen, table.c.experiment_id.is_(None))
            .values(experiment_id=experiment_pk)
        )


def unlink_experiment(
    connection: Connection, stores: StoreIds, context: str, children: Sequence[str]
) -> None:
    """After `remove_context_children`: runs of experiment `context` leave it."""
    found = _experiment_runs(connection, stores, context, children)
    if found is not None:
        experiment_pk, chosen = found
        table = schema.runs
        connection.execute(
            table.update()
            .where(chosen, table.c.experiment_id == experiment_pk)
            .values(experiment_id=None)
        )


def present(connection: Connection, stores: StoreIds, contexts: list[Context]) -> list[Context]:
    """Show `_params`, `_metrics` and `_state` in the metadata of the run contexts among
    `contexts` (in place; also returned). Three queries however many there are."""
    candidates = [c for c in contexts if c.schema_title in RUN_TITLES]
    if not candidates:
        return contexts
    by_store: dict[str, list[Context]] = defaultdict(list)  # a page is of one store
    for context in candidates:
        by_store[context.name[: context.name.rfind("/contexts/")]].append(context)
    found: dict[int, Context] = {}
    states: dict[int, str] = {}
    for store, items in by_store.items():
        store_pk = stores.find(connection, StoreName.parse(store))
        if store_pk is None:
            continue
        wanted = {c.resource_id: c for c in items}
        rows = connection.execute(
            sa.select(schema.contexts.c.id, schema.contexts.c.resource_id, schema.runs.c.state)
            .join(schema.runs, schema.runs.c.context_id == schema.contexts.c.id)
            .where(
                schema.contexts.c.store_id == store_pk,
                schema.contexts.c.resource_id.in_(list(wanted)),
            )
        ).all()
        for pk, resource_id, state in rows:
            found[pk] = wanted[resource_id]
            states[pk] = state
    if not found:
        return contexts
    pks = list(found)
    params: dict[int, dict[str, Any]] = defaultdict(dict)
    table = schema.run_params
    for run_pk, key, kind, text in connection.execute(
        sa.select(table.c.run_id, table.c.key, table.c.value_type, table.c.value_text)
        .where(table.c.run_id.in_(pks))
        .order_by(table.c.key)
    ).all():
        if kind == "str":
            params[run_pk][key] = text
        else:
            value = runs.param_value(kind, text)
            finite = not isinstance(value, float) or math.isfinite(value)
            params[run_pk][key] = value if finite else _json_number(value)  # type: ignore[arg-type]
    metrics: dict[int, dict[str, Any]] = defaultdict(dict)
    table = schema.run_metrics
    for run_pk, key, value in connection.execute(
        sa.select(table.c.run_id, table.c.key, table.c.value)
        .where(table.c.run_id.in_(pks))
        .order_by(table.c.key)
    ).all():
        finite = value is not None and math.isfinite(value)
        metrics[run_pk][key] = value if finite else _json_number(codec.null_to_nan(value))
    for pk, context in found.items():
        context.metadata = {
            **context.metadata,
            PARAMS_KEY: params.get(pk, {}),
            METRICS_KEY: metrics.get(pk, {}),
            STATE_KEY: states[pk],
        }
    return contexts
