"""Keep every test away from the user's real files: local Azure, parse cache and home."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge outcomes, not speed: on a loaded CI runner (two cores shared with servers and
# subprocesses) hypothesis' default 200 ms deadline and its too-slow health check fail correct code.
settings.register_profile("vaultform", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vaultform")


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
