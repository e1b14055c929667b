"""Drift detection: what changed in the cloud behind vaultform's back, and what it breaks."""
