"""Apply: run a plan against the providers, in order, recording state as it goes."""
