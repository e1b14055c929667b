"""Stored state: format, backends, locks."""
