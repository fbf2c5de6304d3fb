"""Run manifests: what produced an output (parameters with sources, seed, versions, git revision)."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ..model.serialize import spec_hash
from ..model.spec import ModelSpec
from ..tables import SCHEMA_VERSION


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("reawaken", "numpy", "scipy", "pandas", "pyarrow", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_revision() -> str | None:
    """The git commit of the source tree reawaken runs from, if it is a checkout."""
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def spec_record(spec: ModelSpec) -> dict[str, Any]:
    return {
        "model": spec.name,
        "model_hash": spec_hash(spec),
        "parameters": [
            {"name": p.name, "value": p.value, "unit": p.unit, "source": p.source, "prior": p.prior}
            for p in spec.parameters
        ],
        "initial": {s.name: s.initial for s in spec.species},
        "units": {s.name: s.unit for s in spec.species},
    }


def _redacted(value: Any) -> Any:
    """``value`` with every string that contains a URL passed through the one redaction helper."""
    if isinstance(value, str):
        if "://" not in value:
            return value
        from .omop.cdm import redact_text

        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value] if isinstance(value, list) else tuple(_redacted(v) for v in value)
    return value


def build_manifest(
    *,
    command: str,
    settings: Mapping[str, Any],
    specs: Sequence[tuple[str, ModelSpec]] = (),
    seed: int | None = None,
    status: Mapping[str, int] | None = None,
    files: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A manifest for one run. ``specs`` pairs each scenario label with its model spec.

    Text in ``settings`` that holds a URL is stored with any password redacted.
    """
    return {
        "command": command,
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "schema_version": SCHEMA_VERSION,
        "versions": package_versions(),
        "git_revision": git_revision(),
        "seed": seed,
        "settings": _redacted(settings),
        "scenarios": {label: spec_record(spec) for label, spec in specs},
        "status": dict(status or {}),
        "files": dict(files or {}),
    }
