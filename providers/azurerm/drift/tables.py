"""Data about the azurerm types drift compares.

* ``KEYED_LISTS`` - repeated blocks matched by a key attribute instead of position;
* ``IGNORED`` - attributes derived from others, never reported on their own;
* ``IMPLIED`` - facts outside the schema, with the value they have when state recorded
  nothing (a key that vaultform created is enabled) and that the configuration
  implicitly wants.
"""

from __future__ import annotations

from typing import Any

from providers.azurerm.drift.types import KEY, KV, ROLE

KEYED_LISTS: dict[tuple[str, str], str] = {
    (KV, "access_policy"): "object_id",
}

IGNORED: dict[str, frozenset[str]] = {
    KEY: frozenset(
        {
            "version",
            "n",
            "e",
            "x",
            "y",
            "public_key_pem",
            "public_key_openssh",
            "resource_id",
            "resource_versionless_id",
        }
    ),
    ROLE: frozenset({"role_definition_name"}),
}

IMPLIED: dict[tuple[str, str], Any] = {
    (KEY, "enabled"): True,
}
