"""One module per Azure object; each registers its routes on a Router."""
