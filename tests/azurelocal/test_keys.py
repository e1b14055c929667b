"""Key Vault keys through the unmodified azure-keyvault-keys SDK on the in-process transport."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm, SignatureAlgorithm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.azurelocal import keystore
from providers.azurelocal.credential import LocalCredential
from providers.azurelocal.http import request_from_url
from providers.azurelocal.transport import local_transport
from tests.azurelocal.kvhelpers import CMK_PERMISSIONS, grant, make_key_vault, new_principal, revoke

VAULT = "kv-keys-test"


@pytest.fixture
def vault(env, keyvault_mgmt, resource_client):
    return make_key_vault(env, keyvault_mgmt, resource_client, VAULT)


@pytest.fixture
def client(vault, key_client):
    return key_client(VAULT)


def crypto_client(env, key_id, object_id=None):
    return CryptographyClient(
        key_id, LocalCredential(object_id), transport=local_transport(env), retry_total=0
    )


def inner(exc: HttpResponseError) -> str:
    return ((exc.response.json().get("error") or {}).get("innererror") or {}).get("code")


def test_first_request_without_token_gets_the_challenge(env, vault):
    answer = env.handle(request_from_url("GET", f"https://{VAULT}.vault.azure.net/keys?api-version=7.5"))
    assert answer.status == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer authorization="https://login.microsoftonline.com/' + env.tenant_id)
    assert 'resource="https://vault.azure.net"' in challenge


def test_create_get_list_update_and_versions(client):
    key = client.create_rsa_key("cmk", size=3072, tags={"use": "backup"})
    assert key.id.startswith(f"https://{VAULT}.vault.azure.net/keys/cmk/")
    assert len(key.properties.version) == 32 and key.key_type == "RSA"
    assert len(key.key.n) == 384 and key.key.e == b"\x01\x00\x01"
    assert key.properties.recovery_level == "CustomizedRecoverable"
    again = client.get_key("cmk")
    assert again.id == key.id and again.properties.tags == {"use": "backup"}
    second = client.create_rsa_key("cmk", size=2048)
    assert client.get_key("cmk").id == second.id
    assert client.get_key("cmk", key.properties.version).id == key.id
    assert [p.version for p in client.list_properties_of_key_versions("cmk")] == [
        key.properties.version,
        second.properties.version,
    ]
    assert [p.name for p in client.list_properties_of_keys()] == ["cmk"]
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    updated = client.update_key_properties("cmk", key.properties.version, enabled=False, expires_on=expires)
    assert updated.properties.enabled is False and updated.properties.expires_on == expires
    assert client.get_key("cmk").properties.enabled is True


def test_bad_input_gets_key_vault_errors(client):
    with pytest.raises(HttpResponseError) as err:
        client.create_rsa_key("cmk", size=1024)
    assert err.value.status_code == 400 and err.value.error.code == "BadParameter"
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_key("nope")
    assert missing.value.error.code == "KeyNotFound"


def test_ec_keys_sign_and_verify_remotely(env, client):
    key = client.create_ec_key("signer", curve="P-256")
    assert key.key.crv == "P-256"
    digest = hashlib.sha256(b"hello").digest()
    signer = crypto_client(env, key.id)
    signed = signer.sign(SignatureAlgorithm.es256, digest)
    assert signer.verify(SignatureAlgorithm.es256, digest, signed.signature).is_valid


def test_wrap_locally_unwrap_remotely_round_trip(env, client):
    key = client.create_rsa_key("cmk", size=2048)
    dek = os.urandom(32)
    cc = crypto_client(env, key.id)
    wrapped = cc.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, dek)
    assert wrapped.key_id == key.id and wrapped.encrypted_key != dek
    assert cc.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == dek
    activity = [a["operation"] for a in env.activity(f"https://{VAULT}.vault.azure.net/keys/cmk")]
    assert "KeyCreate" in activity and "KeyUnwrap" in activity


def test_disabled_key_refuses_unwrap_with_key_disabled(env, client):
    key = client.create_rsa_key("cmk", size=2048)
    wrapped = crypto_client(env, key.id).wrap_key(KeyWrapAlgorithm.rsa_oaep, b"k" * 32).encrypted_key
    client.update_key_properties("cmk", key.properties.version, enabled=False)
    with pytest.raises(HttpResponseError) as err:
        crypto_client(env, key.id).unwrap_key(KeyWrapAlgorithm.rsa_oaep, wrapped)
    assert err.value.status_code == 403 and inner(err.value) == "KeyDisabled"
    assert "disabled key" in err.value.error.message


def test_expired_key_refuses_wrap_but_still_unwraps(env, client):
    key = client.create_rsa_key("cmk", size=2048, expires_on=env.clock.now() + timedelta(days=1))
    cc = crypto_client(env, key.id)
    wrapped = cc.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32).encrypted_key
    env.clock.advance(2 * 86400)
    from providers.azurelocal import keystore

    with pytest.raises(Exception) as err:
        keystore.wrap(env, env.deployer_object_id, key.id, b"x" * 32)
    assert getattr(err.value, "inner", None) == "KeyExpired"
    assert crypto_client(env, key.id).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped).key == b"k" * 32


def test_access_policy_denies_without_grant_then_allows(env, client, keyvault_mgmt):
    key = client.create_rsa_key("cmk", size=2048)
    identity = new_principal(env, "vault-identity")
    from providers.azurelocal import keystore

    with pytest.raises(Exception) as err:
        keystore.wrap(env, identity, key.id, b"d" * 32)
    assert err.value.status == 403 and err.value.inner == "ForbiddenByPolicy"
    with pytest.raises(HttpResponseError) as denied:
        crypto_client(env, key.id, identity).unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"\0" * 256)
    assert inner(denied.value) == "ForbiddenByPolicy"
    grant(env, keyvault_mgmt, "rg-keys", VAULT, identity, CMK_PERMISSIONS)
    versioned, wrapped = keystore.wrap(env, identity, key.properties.version and key.id, b"d" * 32)
    assert keystore.unwrap(env, identity, versioned, wrapped) == b"d" * 32
    revoke(env, keyvault_mgmt, "rg-keys", VAULT, identity, CMK_PERMISSIONS)
    with pytest.raises(Exception) as gone:
        keystore.unwrap(env, identity, versioned, wrapped)
    assert gone.value.inner == "ForbiddenByPolicy"


def test_rbac_vault_denies_by_rbac_and_honours_role(
    env, keyvault_mgmt, resource_client, auth_client, key_client
):
    make_key_vault(env, keyvault_mgmt, resource_client, "kv-rbac", rbac=True)
    deployer = key_client("kv-rbac")
    with pytest.raises(HttpResponseError) as err:
        deployer.create_rsa_key("cmk", size=2048)
    assert err.value.status_code == 403 and inner(err.value) == "ForbiddenByRbac"
    scope = keyvault_mgmt.vaults.get("rg-keys", "kv-rbac").id
    officer = (
        f"{scope}/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
    )
    auth_client.role_assignments.create(
        scope,
        "5f6b1f4e-0000-4000-8000-000000000001",
        {"role_definition_id": officer, "principal_id": env.deployer_object_id, "principal_type": "User"},
    )
    key = deployer.create_rsa_key("cmk", size=2048)
    assert key.properties.enabled


def test_soft_delete_recover_and_purge_protection(client):
    client.create_rsa_key("cmk", size=2048)
    deleted = client.begin_delete_key("cmk").result()
    assert deleted.recovery_id.endswith("/deletedkeys/cmk") and deleted.scheduled_purge_date
    with pytest.raises(ResourceNotFoundError):
        client.get_key("cmk")
    with pytest.raises(ResourceExistsError):
        client.create_rsa_key("cmk", size=2048)
    assert [k.name for k in client.list_deleted_keys()] == ["cmk"]
    with pytest.raises(HttpResponseError) as err:
        client.purge_deleted_key("cmk")
    assert err.value.status_code == 403
    client.begin_recover_deleted_key("cmk").result()
    assert client.get_key("cmk").properties.enabled


def test_purge_without_purge_protection(env, keyvault_mgmt, resource_client, key_client):
    make_key_vault(env, keyvault_mgmt, resource_client, "kv-purgeable", purge_protection=False)
    client = key_client("kv-purgeable")
    client.create_rsa_key("cmk", size=2048)
    client.begin_delete_key("cmk").result()
    client.purge_deleted_key("cmk")
    assert list(client.list_deleted_keys()) == []
    assert client.create_rsa_key("cmk", size=2048).properties.version


def test_rotate_and_rotation_policy(client):
    first = client.create_rsa_key("cmk", size=3072)
    policy = client.get_key_rotation_policy("cmk")
    assert policy.lifetime_actions[0].action == KeyRotationPolicyAction.notify
    client.update_key_rotation_policy(
        "cmk",
        KeyRotationPolicy(
            lifetime_actions=[
                KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D")
            ],
            expires_in="P1Y",
        ),
    )
    stored = client.get_key_rotation_policy("cmk")
    assert stored.expires_in == "P1Y" and stored.lifetime_actions[0].time_after_create == "P90D"
    rotated = client.rotate_key("cmk")
    assert rotated.properties.version != first.properties.version
    assert rotated.key.n and len(rotated.key.n) == 384
    assert rotated.properties.expires_on is not None
    assert client.get_key("cmk").id == rotated.id


def test_firewall_denies_by_default(env, client, keyvault_mgmt):
    client.create_rsa_key("cmk", size=2048)
    keyvault_mgmt.vaults.update(
        "rg-keys",
        VAULT,
        {"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": []}}},
    )
    with pytest.raises(HttpResponseError) as err:
        client.get_key("cmk")
    assert err.value.status_code == 403 and inner(err.value) == "ForbiddenByFirewall"
    keyvault_mgmt.vaults.update(
        "rg-keys",
        VAULT,
        {
            "properties": {
                "networkAcls": {
                    "defaultAction": "Deny",
                    "bypass": "AzureServices",
                    "ipRules": [{"value": "127.0.0.0/8"}],
                }
            }
        },
    )
    assert client.get_key("cmk").name == "cmk"


def test_rotation_policy_rotates_when_due(env, client):
    first = client.create_rsa_key("auto", size=2048)
    client.update_key_rotation_policy(
        "auto",
        KeyRotationPolicy(
            lifetime_actions=[
                KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")
            ],
            expires_in="P90D",
        ),
    )
    env.clock.advance(29 * 86400)
    assert client.get_key("auto").id == first.id
    env.clock.advance(2 * 86400)
    rotated = client.get_key("auto")
    assert rotated.id != first.id
    assert rotated.properties.created_on == first.properties.created_on + timedelta(days=30)
    assert rotated.properties.expires_on == rotated.properties.created_on + timedelta(days=90)
    assert len(list(client.list_properties_of_key_versions("auto"))) == 2


def test_soft_deleted_key_is_purged_after_retention(env, client):
    client.create_rsa_key("gone", size=2048)
    client.begin_delete_key("gone").result()
    env.clock.advance(8 * 86400)  # the test vault keeps deleted keys 7 days
    assert list(client.list_deleted_keys()) == []
    assert client.create_rsa_key("gone", size=2048).name == "gone"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["RSA", "EC", "oct", 7]) | _json,
        "key_size": st.sampled_from([2048, 1, "x"]) | _json,
        "key_ops": _json,
        "attributes": _json,
        "tags": _json,
        "crv": _json,
        "public_exponent": _json,
        "alg": st.sampled_from(["RSA-OAEP", "RS256"]) | _json,
        "value": _json,
        "digest": _json,
        "lifetimeActions": _json,
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=_fields,
    route=st.sampled_from(
        [
            ("POST", "keys/fz/create"),
            ("PATCH", "keys/fz"),
            ("POST", "keys/fz/{v}/wrapkey"),
            ("POST", "keys/fz/{v}/sign"),
            ("POST", "keys/fz/{v}/verify"),
            ("PUT", "keys/fz/rotationpolicy"),
        ]
    ),
)
def test_odd_bodies_get_key_vault_errors_never_500(env, client, body, route):
    if keystore.latest_version(env, VAULT, "fz") is None:
        client.create_rsa_key("fz", size=2048)
    version = keystore.latest_version(env, VAULT, "fz").version
    method, path = route
    url = f"https://{VAULT}.vault.azure.net/{path.format(v=version)}?api-version=7.5"
    answer = env.handle(
        request_from_url(method, url, {"Authorization": "Bearer x"}, json.dumps(body).encode())
    )
    assert answer.status < 500, answer.body


def test_a_release_policy_is_kept_on_an_exportable_hsm_key(client):
    """Key Vault data plane 7.3+: KeyCreateParameters.release_policy {contentType, immutable, data
    (base64url)} with attributes.exportable, returned in the KeyBundle; release needs an HSM key."""
    from azure.keyvault.keys import KeyReleasePolicy

    rules = b'{"version":"1.0.0","anyOf":[{"authority":"https://a.attest.azure.net","allOf":[]}]}'
    key = client.create_rsa_key(
        "released",
        size=2048,
        hardware_protected=True,
        exportable=True,
        release_policy=KeyReleasePolicy(rules),
    )
    got = client.get_key("released")
    for k in (key, got):
        assert k.properties.exportable is True
        assert k.properties.release_policy.encoded_policy == rules
        assert k.properties.release_policy.immutable is False
        assert k.properties.release_policy.content_type == "application/json; charset=utf-8"
    plain = client.create_rsa_key("plain", size=2048)
    assert plain.properties.exportable is False and plain.properties.release_policy is None
    with pytest.raises(HttpResponseError) as software:
        client.create_rsa_key("soft", size=2048, exportable=True, release_policy=KeyReleasePolicy(rules))
    assert software.value.status_code == 400 and software.value.error.code == "BadParameter"
