"""The azurerm provider: Azure through the official SDK (or the embedded local Azure).

Kept import-light on purpose: the catalog (``providers.azurerm.catalog``) is plain
data and the SDK clients load only when a provider instance talks to a cloud.
"""
