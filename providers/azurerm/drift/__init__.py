"""Drift of azurerm objects: what each change breaks, how to undo it, what else to look at.

The engine compares attributes for every provider; this package is the azurerm provider's
answer to ``SupportsDriftRules`` and ``SupportsUnmanagedListing`` (``providers.base``):
``rules.drift_rules`` for one estate, ``rules.unmanaged`` for its scope.
"""
