"""``vaultform init``'s module installer: remote module sources fetched into .vaultform/modules.

Terraform's habit: ``init`` downloads every module whose source isn't a local path (git
repositories, the module registry, archives over HTTPS) into the working directory and
records where each went in a manifest; later commands load modules from there and never
touch the network. vaultform keeps the same layout under ``.vaultform/modules``.
"""
