"""The versions that key the parse cache, known without loading the parser: python-hcl2 and lark
take about a twentieth of a second to import, and a run whose files are all in the cache never
parses (``reconciler.config.cache``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# Bumped whenever the converted tree or the parse diagnostics change (it keys the parse cache).
CONVERTER_VERSION = "6"

# Part of every parse-cache key: a tree parsed by another python-hcl2 may differ.
try:
    HCL2_VERSION = version("python-hcl2")
except PackageNotFoundError:  # not installed as a distribution: the parse cache keys on "unknown"
    HCL2_VERSION = "unknown"
