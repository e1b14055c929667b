"""Checks of a configuration beyond its schema: resource types, references, conditions."""
