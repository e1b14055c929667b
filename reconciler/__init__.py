"""vaultform's engine: configuration language, graph, planner, executor, drift and CLI."""

__version__ = "0.1.0"
