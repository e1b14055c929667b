"""Cloud plug-ins: the provider protocol and its implementations."""
