"""What a data source that matched nothing says: the arguments it looked with.

azurerm names the object it couldn't find ('Virtual Machine "app" (Resource Group "rg-apps") was
not found'); a bare "check the names" leaves the user to work out which names were used, often
through variables. The plain arguments the lookup used are listed; a sensitive one never is.
"""

from __future__ import annotations

from typing import Any

from reconciler.value_text import go_quote
from reconciler.values import UNKNOWN, Sensitive

_SHOWN = 4  # arguments at most: a lookup is by a name or two and a resource group


def not_found_detail(type_name: str, config: dict[str, Any]) -> str:
    used = [
        f"{name} = {go_quote(value) if isinstance(value, str) else value}"
        for name, value in sorted(config.items())
        if value is not None
        and value is not UNKNOWN
        and type(value) is not Sensitive
        and isinstance(value, (str, int, float))
        and not isinstance(value, bool)
        and value != ""
    ][:_SHOWN]
    looked = f" with {', '.join(used)}" if used else ""
    return (
        f"No {type_name} was found{looked}. Check the names, and that the object exists in the "
        "subscription vaultform works in."
    )
