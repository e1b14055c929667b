"""The ``random`` provider: unique names and secrets kept in state, as hashicorp/random does."""
