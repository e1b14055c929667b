"""The embedded local Azure: an emulator of the ARM and Key Vault REST surfaces vaultform uses."""
