"""The providers this distribution ships, by local name: where their factory and schema are.

The engine finds providers through the ``vaultform.providers`` / ``vaultform.schemas``
entry points (``pyproject.toml``); this table is the same data for a source checkout
whose entry points are not installed. Plain strings: importing it loads no provider.
"""

from __future__ import annotations

# local provider name -> "module:attribute" of the provider factory
PROVIDERS = {
    "azurerm": "providers.azurerm.provider:AzurermProvider",
    "terraform": "providers.builtin.provider:BuiltinProvider",
    "random": "providers.random.provider:RandomProvider",
    "time": "providers.time.provider:TimeProvider",
}
# local provider name -> "module:attribute" of its schema (cheap: no SDK import)
SCHEMAS = {
    "azurerm": "providers.azurerm.catalog:SCHEMA",
    "terraform": "providers.builtin.schema:SCHEMA",
    "random": "providers.random.schema:SCHEMA",
    "time": "providers.time.schema:SCHEMA",
}
# command name -> "module:attribute" of a function that registers it on the CLI
COMMANDS = {"cloud": "providers.azurelocal.cli:register"}
