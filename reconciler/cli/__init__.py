"""The `vaultform` command line: Terraform users' habits, one dash flags."""
