"""Input rules shared by every way in: each check names the field and the rule it breaks.

Rules (documented in README "Input rules"):

- metadata: a JSON object of at most 200 KB once encoded; NaN and infinities are refused
  because JSON cannot represent them.
- labels: string keys and values.
- param and metric keys: non-empty strings of at most 250 characters.
- params: str, int, float or bool; strings at most 8,000 characters.
- metrics and time-series values: real numbers (int, float, numpy scalars; not bool).
  NaN and +/-infinity are stored faithfully and read back as such (a diverged loss is a
  fact worth keeping).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from mlineage.errors import InvalidArgumentError, InvalidTypeError

MAX_METADATA_BYTES = 200 * 1024
MAX_KEY_LENGTH = 250
MAX_PARAM_STRING_LENGTH = 8000
MAX_DISPLAY_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 8192

ParamValue = str | int | float | bool
_METADATA_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"), sort_keys=True)
"""Built once: `json.dumps` with options builds an encoder per call."""
_ENCODE_ONCE: Any = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _METADATA_ENCODER.default, encode_basestring_ascii, None, ":", ",", True, False, False
    )
)
"""The C encoder behind `_METADATA_ENCODER`, made once: `encode` makes one per call, with a
dict of the objects seen to catch circular references. Without it a circular object
recurses until RecursionError, and `_encode` lets `_METADATA_ENCODER` say what is wrong."""


def _encode(metadata: Any) -> str:
    """`_METADATA_ENCODER.encode(metadata)`, the same text and the same errors, in two
    thirds of the time."""
    if _ENCODE_ONCE is None:
        return _METADATA_ENCODER.encode(metadata)
    try:
        return "".join(_ENCODE_ONCE(metadata, 0))
    except RecursionError:
        return _METADATA_ENCODER.encode(metadata)  # "Circular reference detected"


def encode_metadata(metadata: Any, field_name: str = "metadata") -> str:
    """Return the canonical JSON text of `metadata`, or raise INVALID_ARGUMENT."""
    if metadata is None:
        return "{}"
    if type(metadata) is not dict and not isinstance(metadata, Mapping):
        raise InvalidTypeError(
            field_name, f"must be a JSON object (dict), got {type(metadata).__name__}"
        )
    if not metadata:
        return "{}"
    try:
        text = _encode(metadata)
    except ValueError as exc:
        raise InvalidArgumentError(
            field_name, f"must be JSON-representable: NaN and infinities are not ({exc})"
        ) from None
    except TypeError as exc:
        raise InvalidArgumentError(field_name, f"must be JSON-representable: {exc}") from None
    size = len(text)  # ASCII: the encoder escapes every other character
    if size > MAX_METADATA_BYTES:
        raise InvalidArgumentError(
            field_name, f"is {size} bytes encoded as JSON; the limit is {MAX_METADATA_BYTES}"
        )
    return text


def check_metadata(metadata: Any, field_name: str = "metadata") -> dict[str, Any]:
    """Validate metadata and return it as a plain dict (a JSON round trip of the input)."""
    result: dict[str, Any] = json.loads(encode_metadata(metadata, field_name))
    return result


def check_labels(labels: Any, field_name: str = "labels") -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InvalidTypeError(field_name, f"must be a dict, got {type(labels).__name__}")
    for key, value in labels.items():
        if not isinstance(key, str) or not key or len(key) > 63:
            raise InvalidArgumentError(field_name, f"key {key!r} must be a string of 1-63 chars")
        if not isinstance(value, str) or len(value) > 63:
            raise InvalidArgumentError(
                f"{field_name}.{key}", "value must be a string of at most 63 characters"
            )
    return dict(labels)


def check_text(value: Any, field_name: str, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidTypeError(field_name, f"must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise InvalidArgumentError(
            field_name, f"is {len(value)} characters; the limit is {max_length}"
        )
    return value


def check_key(key: Any, field_name: str) -> str:
    if not isinstance(key, str):
        raise InvalidTypeError(field_name, f"key must be a string, got {type(key).__name__}")
    if not key:
        raise InvalidArgumentError(field_name, "key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgumentError(
            field_name,
            f"key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}",
        )
    return key


def check_params(params: Any) -> dict[str, ParamValue]:
    """Validate a dict of run parameters; numpy scalars become the Python type they stand for."""
    if not isinstance(params, Mapping):
        raise InvalidTypeError("params", f"must be a dict, got {type(params).__name__}")
    result: dict[str, ParamValue] = {}
    for key, value in params.items():
        check_key(key, "params")
        if isinstance(value, str | bool):
            result[key] = value
        elif isinstance(value, numbers.Integral):
            result[key] = int(value)
        elif isinstance(value, numbers.Real):
            result[key] = float(value)
        else:
            raise InvalidTypeError(
                f"params.{key}",
                f"must be str, int, float or bool, got {type(value).__name__}",
            )
        if isinstance(value, str) and len(value) > MAX_PARAM_STRING_LENGTH:
            raise InvalidArgumentError(
                f"params.{key}",
                f"is {len(value)} characters; the limit is {MAX_PARAM_STRING_LENGTH}",
            )
    return result


def check_metrics(metrics: Any, field_name: str = "metrics") -> dict[str, float]:
    """Validate a dict of metric values and return them as floats.

    Ints beyond the float range are refused; NaN and infinities are kept.
    """
    if not isinstance(metrics, Mapping):
        raise InvalidTypeError(field_name, f"must be a dict, got {type(metrics).__name__}")
    result: dict[str, float] = {}
    for key, value in metrics.items():
        check_key(key, field_name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidTypeError(
                f"{field_name}.{key}", f"must be an int or float, got {type(value).__name__}"
            )
        try:
            result[key] = float(value)
        except OverflowError:
            raise InvalidArgumentError(
                f"{field_name}.{key}", "integer is too large to store as a float"
            ) from None
    return result


def check_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidTypeError("step", f"must be an int, got {type(step).__name__}")
    value = int(step)
    if not 0 <= value < 2**63:
        raise InvalidArgumentError("step", f"must be between 0 and 2**63-1, got {value}")
    return value


MAX_PAGE_SIZE = 10_000
"""The most rows one page of a list may hold (a larger page_size is served this many)."""


def check_page_size(page_size: int | None) -> int | None:
    """A page size as lists take it: None or 0 is the default (None), a larger one than
    `MAX_PAGE_SIZE` is capped, a negative one or a non-int is refused."""
    if page_size is None or page_size == 0:
        return None
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 0:
        raise InvalidArgumentError("page_size", f"must be a non-negative int, got {page_size!r}")
    return min(page_size, MAX_PAGE_SIZE)


MIN_POINTS = 4
"""The fewest points a downsampled time-series key is drawn with: one range's first, last,
lowest and highest point."""


def check_max_points(max_points: Any) -> int:
    """A time-series read's `max_points`: an int of at least `MIN_POINTS`."""
    if isinstance(max_points, bool) or not isinstance(max_points, int):
        raise InvalidArgumentError(
            "max_points", f"must be an integer, got {type(max_points).__name__}"
        )
    if max_points < MIN_POINTS:
        raise InvalidArgumentError("max_points", f"must be at least {MIN_POINTS}, got {max_points}")
    return max_points
