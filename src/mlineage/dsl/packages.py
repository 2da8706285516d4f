"""`packages_to_install`, locally: nothing is installed; a package that is not here is an error.

A requirement (`xgboost`, `pandas>=2`, `scikit-learn[alldeps]==1.5`) is satisfied when its
distribution is installed or its import name is importable (or already imported).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Sequence

__all__ = ["MissingPackageError", "check_packages", "requirement_name"]

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_IMPORT_NAMES = {
    "scikit-learn": "sklearn",
    "google-cloud-aiplatform": "google.cloud.aiplatform",
    "google-cloud-storage": "google.cloud.storage",
    "google-cloud-bigquery": "google.cloud.bigquery",
    "pillow": "PIL",
    "pyyaml": "yaml",
    "opencv-python": "cv2",
    "beautifulsoup4": "bs4",
    "python-dateutil": "dateutil",
    "tensorflow-cpu": "tensorflow",
}


class MissingPackageError(ImportError):
    """A package the component asks for (`packages_to_install`) is not installed here."""


def requirement_name(requirement: str) -> str:
    """A requirement's distribution name, normalized (`Scikit_Learn` -> `scikit-learn`)."""
    match = _NAME_RE.match(requirement)
    if match is None:
        raise ValueError(f"packages_to_install: {requirement!r} is not a requirement")
    return re.sub(r"[-_.]+", "-", match[1]).lower()


@functools.lru_cache(maxsize=512)
def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _importable(module: str) -> bool:
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_packages(requirements: Sequence[str], component: str) -> None:
    """Raise MissingPackageError naming every requirement that is not available."""
    missing = []
    for requirement in requirements:
        name = requirement_name(requirement)
        module = _IMPORT_NAMES.get(name, name.replace("-", "_"))
        if not (_importable(module) or _installed(name)):
            missing.append(requirement)
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise MissingPackageError(
            f"component {component} needs {names} (packages_to_install), not installed in "
            f"this environment ({sys.executable}); mlineage runs components locally and "
            "installs nothing: pip install them first"
        )
