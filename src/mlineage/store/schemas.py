"""Metadata schemas: registering them, and validating metadata against them.

A schema is an OpenAPI 3 / JSON Schema object, given as YAML or JSON text (JSON is YAML).
The `system.*` and `google.*` titles Vertex defines are built in and accept any metadata
object; a user may register a schema under any other title. When a resource is created
with a registered title, its metadata is validated against the registered schema of that
version, or the newest registered version when the resource names one that is not
registered.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import jsonschema
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from mlineage.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mlineage.ids import new_id
from mlineage.store import schema
from mlineage.store.codec import from_micros, json_value, now_micros
from mlineage.types import MetadataSchema, ResourceName, SchemaType, StoreName, validate_resource_id

_ARTIFACT_TITLES = (
    "system.Artifact",
    "system.Dataset",
    "system.Model",
    "system.Metrics",
    "system.ClassificationMetrics",
    "system.SlicedClassificationMetrics",
    "system.HTML",
    "system.Markdown",
    "google.VertexDataset",
    "google.VertexModel",
    "google.VertexEndpoint",
    "google.UnmanagedContainerModel",
    "google.ClassificationMetrics",
    "google.RegressionMetrics",
    "google.ForecastingMetrics",
    "google.ExperimentModel",
    "google.VertexTensorboardRun",
)
BUILT_IN_TITLES: dict[str, SchemaType] = {
    **dict.fromkeys(_ARTIFACT_TITLES, SchemaType.ARTIFACT_TYPE),
    "system.ContainerExecution": SchemaType.EXECUTION_TYPE,
    "system.CustomJobExecution": SchemaType.EXECUTION_TYPE,
    "system.Run": SchemaType.EXECUTION_TYPE,
    "system.Context": SchemaType.CONTEXT_TYPE,
    "system.Experiment": SchemaType.CONTEXT_TYPE,
    "system.ExperimentRun": SchemaType.CONTEXT_TYPE,
    "system.Pipeline": SchemaType.CONTEXT_TYPE,
    "system.PipelineRun": SchemaType.CONTEXT_TYPE,
}


def parse_schema_text(text: str) -> dict[str, Any]:
    """Parse and check a schema document; INVALID_ARGUMENT when it is not a valid schema."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgumentError("schema", f"is not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidArgumentError("schema", "must be a YAML or JSON object")
    try:
        jsonschema.Draft202012Validator.check_schema(document)
    except jsonschema.SchemaError as exc:
        raise InvalidArgumentError("schema", f"is not a valid JSON schema: {exc.message}") from None
    return document


@functools.lru_cache(maxsize=256)
def _validator(text: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(parse_schema_text(text))


_REGISTERED = (
    sa.select(
        schema.metadata_schemas.c.schema_title,
        schema.metadata_schemas.c.schema_version,
        schema.metadata_schemas.c.schema,
    )
    .where(
        schema.metadata_schemas.c.store_id == sa.bindparam("store_pk"),
        schema.metadata_schemas.c.schema_title.in_(sa.bindparam("titles", expanding=True)),
    )
    .order_by(schema.metadata_schemas.c.create_time.desc())
)


def validate_metadata(
    connection: Connection, store_pk: int, items: Sequence[tuple[str, str, str]]
) -> None:
    """Check each (title, version, metadata as JSON text) against the schema registered for
    its title, if any: the registered version of that number, else the newest. One query at
    most, none when every title is built in."""
    titles = sorted({title for title, _, _ in items if title not in BUILT_IN_TITLES})
    if not titles:
        return
    registered: dict[str, list[tuple[str, str]]] = {}
    for title, version, text in connection.execute(
        _REGISTERED, {"store_pk": store_pk, "titles": titles}
    ):
        registered.setdefault(title, []).append((version, text))
    for title, version, metadata in items:
        versions = registered.get(title)
        if not versions:
            continue
        text = next((t for v, t in versions if v == version), versions[0][1])
        document = json_value(metadata)
        error = jsonschema.exceptions.best_match(_validator(text).iter_errors(document))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path)
            field = f"metadata.{where}" if where else "metadata"
            raise InvalidArgumentError(field, f"does not match schema {title}: {error.message}")


def _from_row(row: Any, store: StoreName) -> MetadataSchema:
    return MetadataSchema(
        name=f"{store}/metadataSchemas/{row.resource_id}",
        schema_title=row.schema_title,
        schema_version=row.schema_version,
        schema=row.schema,
        schema_type=SchemaType[row.schema_type],
        description=row.description,
        create_time=from_micros(row.create_time),
    )


def create(
    connection: Connection,
    store_pk: int,
    store: StoreName,
    item: MetadataSchema,
    schema_id: str | None,
) -> MetadataSchema:
    if not item.schema_title or not isinstance(item.schema_title, str):
        raise InvalidArgumentError("schema_title", "is required")
    if item.schema_title in BUILT_IN_TITLES:
        raise InvalidArgumentError(
            "schema_title", f"{item.schema_title} is built in and cannot be registered again"
        )
    parse_schema_text(item.schema)
    resource_id = validate_resource_id(schema_id or new_id(), "metadata_schema_id")
    table = schema.metadata_schemas
    clash = connection.execute(
        sa.select(table.c.resource_id).where(
            table.c.store_id == store_pk,
            sa.or_(
                table.c.resource_id == resource_id,
                sa.and_(
                    table.c.schema_title == item.schema_title,
                    table.c.schema_version == item.schema_version,
                ),
            ),
        )
    ).first()
    if clash is not None:
        raise AlreadyExistsError(
            f"MetadataSchema {store}/metadataSchemas/{clash.resource_id} already exists "
            f"(id {resource_id!r} or {item.schema_title} {item.schema_version})"
        )
    values = {
        "store_id": store_pk,
        "resource_id": resource_id,
        "schema_title": item.schema_title,
        "schema_version": item.schema_version,
        "schema_type": item.schema_type.name,
        "schema": item.schema,
        "description": item.description,
        "create_time": now_micros(),
    }
    connection.execute(table.insert().values(**values))
    return _from_row(SimpleNamespace(**values), store)


def get(connection: Connection, store_pk: int | None, name: str) -> MetadataSchema:
    parsed = ResourceName.parse(name, "metadataSchemas")
    table = schema.metadata_schemas
    row = None
    if store_pk is not None:
        row = connection.execute(
            sa.select(table).where(
                table.c.store_id == store_pk, table.c.resource_id == parsed.resource_id
            )
        ).first()
    if row is None:
        raise NotFoundError(f"MetadataSchema {name} not found")
    return _from_row(row, parsed.parent)


def list_rows(
    connection: Connection, store_pk: int, store: StoreName, after_id: int, limit: int | None
) -> Sequence[tuple[int, MetadataSchema]]:
    table = schema.metadata_schemas
    query = (
        sa.select(table)
        .where(table.c.store_id == store_pk, table.c.id > after_id)
        .order_by(table.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(row.id, _from_row(row, store)) for row in connection.execute(query)]
