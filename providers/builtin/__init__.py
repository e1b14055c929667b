"""The built-in provider ("terraform"): terraform_data, which needs no cloud."""
