"""Keep every test away from the user's real files: local Azure, parse cache and home."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    saved = {
        k: os.environ.get(k)
        for k in ("VAULTFORM_LOCAL_AZURE", "VAULTFORM_CACHE_DIR", "VAULTFORM_CLOUD", "HOME")
    }
    os.environ["HOME"] = str(home)  # defaults under ~ (local Azure, plan key) land here too
    os.environ["VAULTFORM_LOCAL_AZURE"] = str(home / "local-azure.db")
    os.environ["VAULTFORM_CACHE_DIR"] = str(home / "cache")
    os.environ.pop("VAULTFORM_CLOUD", None)
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
