"""Dependency graphs, built by small steps; knows nothing of Azure."""
