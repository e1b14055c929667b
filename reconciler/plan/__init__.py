"""Planning: what changes, in which order, and why - pure functions over values."""
