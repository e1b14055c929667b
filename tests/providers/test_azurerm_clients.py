"""Which cloud, which identity: the client factory's choices."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken

from providers.azurelocal.app import Emulator
from providers.azurerm.clients import ClientFactory, CloudKind, CloudTarget, target_from
from providers.azurerm.provider import AzurermProvider
from providers.base import PermanentError


def test_local_is_the_default_and_follows_vaultform_local_azure(tmp_path):
    t = target_from({}, {"VAULTFORM_LOCAL_AZURE": str(tmp_path / "x.db")})
    assert t.kind is CloudKind.LOCAL and t.local_path == tmp_path / "x.db"


def test_real_azure_by_environment_or_block():
    env = {"VAULTFORM_CLOUD": "azure", "ARM_SUBSCRIPTION_ID": "sub-env", "ARM_TENANT_ID": "ten-env"}
    t = target_from({}, env)
    assert (t.kind, t.subscription_id, t.tenant_id) == (CloudKind.AZURE, "sub-env", "ten-env")
    t = target_from({"cloud": "azure", "subscription_id": "sub-block"}, {"AZURE_SUBSCRIPTION_ID": "other"})
    assert (t.kind, t.subscription_id) == (CloudKind.AZURE, "sub-block")
    assert target_from({"cloud": "local"}, {"VAULTFORM_CLOUD": "azure"}).kind is CloudKind.LOCAL


def test_real_azure_needs_a_subscription_and_a_known_cloud():
    with pytest.raises(PermanentError) as err:
        target_from({"cloud": "azure"}, {})
    assert "ARM_SUBSCRIPTION_ID" in err.value.message
    with pytest.raises(PermanentError):
        target_from({"cloud": "mars"}, {})


def test_configure_reports_bad_blocks_as_diagnostics():
    diags = AzurermProvider(environ={}).configure({"cloud": "azure"})
    assert [d.code for d in diags] == ["provider-config"]
    assert "subscription" in diags[0].detail


class JwtCredential:
    def __init__(self, claims):
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        self.token = f"e30.{payload}.sig"

    def get_token(self, *scopes, **kw):
        return AccessToken(self.token, 2**31)


def test_caller_identity_from_a_real_token_and_the_description():
    f = ClientFactory(
        CloudTarget(CloudKind.AZURE, subscription_id="sub-1"),
        credential=JwtCredential({"tid": "t-1", "oid": "o-1", "appid": "a-1"}),
    )
    who = f.caller()
    assert (who.tenant_id, who.object_id, who.client_id, who.subscription_id) == (
        "t-1",
        "o-1",
        "a-1",
        "sub-1",
    )
    assert f.describe() == "Azure subscription sub-1"


def test_local_caller_and_description(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / ".vaultform" / "local-azure.db"
    env = Emulator(path)
    f = ClientFactory(CloudTarget(CloudKind.LOCAL, local_path=path), emulator=env)
    assert f.describe() == f"local Azure (~{Path('/.vaultform/local-azure.db')})"
    who = f.caller()
    assert (who.tenant_id, who.object_id, who.subscription_id) == (
        env.tenant_id,
        env.deployer_object_id,
        env.subscription_id,
    )
    assert f.resources() is f.resources()  # cached
    assert f.keys("https://kv1.vault.azure.net") is f.keys("https://KV1.vault.azure.net/")
    env.store.close()


def test_sign_in_follows_the_provider_block():
    import azure.identity as identity

    from providers.azurerm.clients import credential_for

    base = {
        "cloud": "azure",
        "subscription_id": "s",
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "client_id": "00000000-0000-0000-0000-000000000002",
    }
    assert isinstance(
        credential_for(target_from({**base, "client_secret": "x"}, {})), identity.ClientSecretCredential
    )
    assert isinstance(
        credential_for(target_from({**base, "use_msi": True}, {})), identity.ManagedIdentityCredential
    )
    assert isinstance(credential_for(target_from({**base, "use_cli": True}, {})), identity.AzureCliCredential)
    assert isinstance(credential_for(target_from(base, {})), identity.DefaultAzureCredential)
    assert "x" not in repr(target_from({**base, "client_secret": "x"}, {}))  # secrets stay out of reprs


def test_sovereign_clouds_use_their_own_endpoints():
    t = target_from({"cloud": "azure", "subscription_id": "s", "environment": "usgovernment"}, {})
    f = ClientFactory(t, credential=JwtCredential({"tid": "t", "oid": "o"}))
    config = f.resources()._config
    assert config.base_url == "https://management.usgovcloudapi.net"
    assert config.credential_scopes == ["https://management.usgovcloudapi.net/.default"]
    with pytest.raises(PermanentError):
        target_from({"cloud": "azure", "subscription_id": "s", "environment": "mars"}, {})
