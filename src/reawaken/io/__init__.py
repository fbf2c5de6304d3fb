"""I/O adapters: Parquet and JSON outputs, run manifests, atomic writes. The only place pyarrow is imported."""

from .manifest import build_manifest, package_versions
from .outputs import OutputDir, write_json, write_table

__all__ = ["OutputDir", "build_manifest", "package_versions", "write_json", "write_table"]
