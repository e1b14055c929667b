"""The built-in function table: name -> ``FunctionSpec`` (parameters as data).

The table is merged from one module per family:

=========================  =====================================================
``functions_numeric``      abs ceil floor max min signum pow log parseint sum
``functions_strings``      lower upper title trim* chomp strrev startswith endswith
                           strcontains indent substr split join regex regexall replace
``functions_format``       format formatlist
``functions_collections``  length coalesce coalescelist concat contains distinct index
                           element flatten keys values lookup merge range reverse slice
                           sort zipmap one compact chunklist setunion setintersection
                           setsubtract alltrue anytrue setproduct matchkeys transpose
``functions_conversion``   tostring tonumber tobool tolist toset tomap sensitive nonsensitive
                           issensitive ephemeralasnull
``functions_encoding``     jsonencode jsondecode base64encode base64decode base64gzip sha1 sha256
                           sha512 md5 base64sha256 base64sha512 textencodebase64 textdecodebase64
                           urlencode cidrsubnet cidrsubnets cidrhost cidrnetmask uuidv5; uuid and
                           timestamp (impure: UNKNOWN at plan time, computed in the console)
``functions_crypto``       bcrypt (impure) rsadecrypt
``functions_data``         yamlencode yamldecode csvdecode
``functions_time``         timeadd timecmp formatdate plantimestamp
``functions_files``        file templatefile fileexists fileset filebase64 filesha1 filesha256 filesha512
                           filebase64sha256 filebase64sha512 filemd5 basename dirname abspath
                           pathexpand (relative paths from the working directory)
=========================  =====================================================

``can``, ``try`` and ``templatestring`` are not here: they need their arguments unevaluated,
so the evaluator implements them as special forms (the names are listed in ``SPECIAL_FORMS``).
The console adds ``type`` (and takes ``plantimestamp`` away), as terraform's does.
"""

from __future__ import annotations

from reconciler.config import (
    functions_collections,
    functions_conversion,
    functions_crypto,
    functions_data,
    functions_encoding,
    functions_files,
    functions_format,
    functions_numeric,
    functions_strings,
    functions_time,
)
from reconciler.config.functions_spec import FunctionSpec

_FAMILIES = (
    functions_numeric,
    functions_strings,
    functions_format,
    functions_collections,
    functions_conversion,
    functions_encoding,
    functions_crypto,
    functions_data,
    functions_time,
    functions_files,
)


def _merge() -> dict[str, FunctionSpec]:
    merged: dict[str, FunctionSpec] = {}
    for family in _FAMILIES:
        for name, fs in family.FUNCTIONS.items():
            if name in merged:
                raise RuntimeError(f"built-in function {name} is defined twice")
            merged[name] = fs
    return dict(sorted(merged.items()))


BUILTINS: dict[str, FunctionSpec] = _merge()

SPECIAL_FORMS = ("can", "try", "templatestring")


def function_names() -> list[str]:
    """Every callable name, for completion and "did you mean" hints."""
    return sorted(list(BUILTINS) + list(SPECIAL_FORMS))
