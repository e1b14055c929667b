"""Dependency graphs over networkx, built by small steps; knows nothing of Azure."""
