"""terraform_remote_state reads an azurerm state with Entra ID (use_azuread_auth) through the same
sign-in as the azurerm backend: the local Azure's login host issues the token, and an Azurite over
HTTPS with OAuth checks it (issuer, audience, lifetime - it checks no role assignment, so "who may
read" is not tested here)."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, _azurite_program, missing

from providers.azurelocal import tokens
from providers.azurelocal.app import Emulator
from providers.azurelocal.server import LocalAzureServer
from reconciler.cli.main import main
from reconciler.cli.output import Output
from state.backends.azurerm import AzurermBackend
from state.model import OutputState, State

FIXTURES = Path(__file__).parents[1] / "fixtures" / "remote_state"
SIGN_IN_VARIABLES = (
    "ARM_ACCESS_KEY ARM_SAS_TOKEN ARM_USE_AZUREAD ARM_CLIENT_ID ARM_CLIENT_SECRET ARM_CLIENT_SECRET_FILE_PATH "
    "ARM_CLIENT_CERTIFICATE ARM_CLIENT_CERTIFICATE_PATH ARM_USE_OIDC ARM_OIDC_TOKEN ARM_OIDC_TOKEN_FILE_PATH "
    "ARM_OIDC_REQUEST_URL ARM_OIDC_REQUEST_TOKEN ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN "
    "ARM_USE_MSI ARM_USE_CLI ARM_ENVIRONMENT ARM_METADATA_HOSTNAME ARM_TENANT_ID ARM_SUBSCRIPTION_ID "
    "AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID AZURE_FEDERATED_TOKEN_FILE TF_WORKSPACE"
).split()


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def entra(tmp_path, monkeypatch):
    """The local Azure (its login host issues tokens) and an Azurite over HTTPS that checks them, both
    with the local Azure's certificate; the environment signs in to nothing by itself."""
    program = _azurite_program()
    if program is None:
        missing(
            "Azurite (node and npm)", "install Node.js and npm; the tests then install azurite themselves"
        )
    for name in SIGN_IN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = Emulator(tmp_path / "signin.db")
    server = LocalAzureServer(env).start()
    (tmp_path / "azurite").mkdir()
    azurite = Azurite(program, tmp_path / "azurite", tls=(server.tls.server_cert, server.tls.server_key))
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.tls.ca_cert))
        monkeypatch.setenv("ARM_METADATA_HOSTNAME", f"127.0.0.1:{server.port}")
        monkeypatch.setenv("ARM_TENANT_ID", env.tenant_id)
        azurite.start()
        yield env, server, azurite
    finally:
        azurite.stop()
        server.stop()
        env.store.close()


def _stored(azurite: Azurite, container: str) -> dict[str, str]:
    """A producer's state in ``container``, written with the account key; the consumer's settings."""
    azurite.container(container)
    settings = {
        "storage_account_name": AZURITE_ACCOUNT,
        "container_name": container,
        "key": "producer.tfstate",
        "blob_endpoint": azurite.endpoint,
    }
    producer = AzurermBackend({**settings, "access_key": AZURITE_KEY})
    try:
        with producer.lock("apply"):
            state = replace(State.new(), outputs={"vault_name": OutputState(value="vault-from-entra")})
            producer.write(state)
    finally:
        producer.close()
    return settings


def _consume(tmp_path: Path, monkeypatch, config: dict[str, str]) -> tuple[int, str]:
    work = tmp_path / "consumer"
    shutil.copytree(FIXTURES / "consumer", work)
    monkeypatch.chdir(work)
    variables = "{" + ", ".join(f'{k}="{v}"' for k, v in config.items()) + "}"
    code, out, err = _run(
        "apply", "-auto-approve", "-no-color", "-var=backend=azurerm", f"-var=config={variables}"
    )
    if code != 0:
        return code, out + err
    code, out, err = _run("output", "-json")
    assert code == 0, err
    return code, json.loads(out)["vault_name"]["value"]


def test_a_client_secret_reads_the_state_with_an_entra_token(entra, tmp_path, monkeypatch):
    env, server, azurite = entra
    settings = _stored(azurite, "entrasecret")
    object_id = "5e1f0000-0000-4000-8000-00000000e001"
    env.register_principal({"object_id": object_id, "type": "ServicePrincipal", "display_name": "reader"})
    client = tokens.register_application(env, object_id)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_SECRET", tokens.add_client_secret(env, client))
    code, text = _consume(tmp_path, monkeypatch, {**settings, "use_azuread_auth": "true"})
    assert code == 0, text
    assert text == "vault-from-entra"


def test_a_wrong_secret_is_a_sign_in_error_not_a_traceback(entra, tmp_path, monkeypatch):
    env, server, azurite = entra
    settings = _stored(azurite, "entrawrong")
    object_id = "5e1f0000-0000-4000-8000-00000000e002"
    env.register_principal({"object_id": object_id, "type": "ServicePrincipal", "display_name": "reader"})
    client = tokens.register_application(env, object_id)
    tokens.add_client_secret(env, client)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_SECRET", "not-the-secret")
    code, text = _consume(tmp_path, monkeypatch, {**settings, "use_azuread_auth": "true"})
    assert code == 1 and "Traceback" not in text, text
    assert "could not sign in with Entra ID" in text and "AADSTS7000215" in text, text


def test_azurite_refuses_a_token_it_did_not_get_from_entra(entra, tmp_path, monkeypatch):
    """The check is real: without use_azuread_auth and with no key, the read is Terraform's error; and a
    request without any credential is refused by this Azurite."""
    _env, _server, azurite = entra
    settings = _stored(azurite, "entranone")
    code, text = _consume(tmp_path, monkeypatch, settings)
    assert code == 1 and "One of `access_key`, `sas_token`, `use_azuread_auth`" in text, text
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobClient

    anonymous = BlobClient(azurite.endpoint, "entranone", "producer.tfstate")
    with pytest.raises(HttpResponseError):
        anonymous.download_blob().readall()
