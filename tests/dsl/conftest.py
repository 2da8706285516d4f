"""Every pipeline test writes its outputs under its own tmp_path, with default settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlineage.dsl.config import LocalSettings, local_settings


@pytest.fixture(autouse=True)
def local_outputs(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "local_outputs"
    saved = LocalSettings(**vars(local_settings))
    defaults = LocalSettings(pipeline_root=str(root))
    for key, value in vars(defaults).items():
        setattr(local_settings, key, value)
    yield root
    for key, value in vars(saved).items():
        setattr(local_settings, key, value)
