"""Sign-in as azurerm users configure it: every path, against the local Azure served over HTTPS on
127.0.0.1 (its login host issues the tokens) and, for the pipeline paths, a local OIDC issuer standing
in for GitHub Actions and Azure DevOps. Each path signs in as its own principal; the local Azure's
activity log names the principal that made the change."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers.azurelocal import tokens
from providers.azurelocal.app import Emulator
from providers.azurelocal.server import LocalAzureServer
from providers.azurerm.clients import ClientFactory, SignIn, sign_in_method, target_from
from providers.azurerm.provider import AzurermProvider
from reconciler.cli.main import main
from reconciler.cli.output import Output
from tests.azurelocal.signin_helpers import ADO_SUBJECT_PREFIX, GITHUB_SUBJECT, OidcIssuer, make_certificate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "signin"
SIGN_IN_VARIABLES = (
    "ARM_CLIENT_ID ARM_CLIENT_SECRET ARM_CLIENT_SECRET_FILE_PATH ARM_CLIENT_CERTIFICATE ARM_CLIENT_CERTIFICATE_PATH "
    "ARM_CLIENT_CERTIFICATE_PASSWORD ARM_USE_OIDC ARM_OIDC_TOKEN ARM_OIDC_TOKEN_FILE_PATH AZURE_FEDERATED_TOKEN_FILE "
    "ARM_OIDC_REQUEST_URL ARM_OIDC_REQUEST_TOKEN ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN "
    "SYSTEM_OIDCREQUESTURI SYSTEM_ACCESSTOKEN ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID "
    "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID ARM_USE_MSI ARM_USE_CLI ARM_ENVIRONMENT ARM_METADATA_HOSTNAME "
    "ARM_TENANT_ID ARM_SUBSCRIPTION_ID AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID ARM_USE_AKS_WORKLOAD_IDENTITY"
).split()


class Cloud:
    """The served local Azure, the OIDC issuer, and a way to make principals that can sign in."""

    def __init__(self, tmp_path: Path, monkeypatch) -> None:
        self.env = Emulator(tmp_path / "signin.db")
        self.server = LocalAzureServer(self.env).start()
        self.issuer = OidcIssuer()
        self.tmp = tmp_path
        for name in SIGN_IN_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        self.base_env = {
            "REQUESTS_CA_BUNDLE": str(self.server.tls.ca_cert),
            "VAULTFORM_CLOUD": "azure",
            "ARM_METADATA_HOSTNAME": f"127.0.0.1:{self.server.port}",
            "ARM_SUBSCRIPTION_ID": self.env.subscription_id,
            "ARM_TENANT_ID": self.env.tenant_id,
        }
        for name, value in self.base_env.items():
            monkeypatch.setenv(name, value)
        self._count = 0

    def principal(self, name: str) -> tuple[str, str]:
        """A new service principal with an application; returns (object id, client id)."""
        self._count += 1
        object_id = f"5e1f0000-0000-4000-8000-{self._count:012d}"
        self.env.register_principal(
            {"object_id": object_id, "type": "ServicePrincipal", "display_name": name}
        )
        return object_id, tokens.register_application(self.env, object_id)

    def signs_in_as(self, object_id: str, config: dict | None = None, environ: dict | None = None) -> None:
        """Sign in from ``config``/``environ``, write a resource group, and check who the local Azure saw."""
        factory = ClientFactory(
            target_from({"cloud": "azure", **(config or {})}, {**os.environ, **(environ or {})})
        )
        try:
            assert factory.caller().object_id == object_id
            name = f"rg-{object_id[-4:]}"
            factory.resources().resource_groups.create_or_update(name, {"location": "westeurope"})
        finally:
            factory.close()
        writes = [a for a in self.env.activity("/subscriptions") if a["resource_id"].lower().endswith(name)]
        assert [a["principal_id"] for a in writes] == [object_id]

    def close(self) -> None:
        self.issuer.close()
        self.server.stop()
        self.env.store.close()


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    c = Cloud(tmp_path, monkeypatch)
    yield c
    c.close()


def test_client_secret_from_the_environment(cloud, monkeypatch):
    oid, client = cloud.principal("secret-app")
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_SECRET", tokens.add_client_secret(cloud.env, client))
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.CLIENT_SECRET
    cloud.signs_in_as(oid)


def test_client_secret_from_a_file(cloud, monkeypatch, tmp_path):
    oid, client = cloud.principal("secret-file-app")
    secret_file = tmp_path / "secret"
    secret_file.write_text(tokens.add_client_secret(cloud.env, client) + "\n")
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_SECRET_FILE_PATH", str(secret_file))
    cloud.signs_in_as(oid)


def test_client_certificate_with_password(cloud, monkeypatch, tmp_path):
    oid, client = cloud.principal("cert-app")
    path, cert_pem = make_certificate(tmp_path / "app.pem", password=b"pfx-password")
    tokens.add_certificate(cloud.env, client, cert_pem)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PATH", str(path))
    monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PASSWORD", "pfx-password")
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.CLIENT_CERTIFICATE
    cloud.signs_in_as(oid)


def test_client_certificate_as_pfx_in_the_provider_block(cloud, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    oid, client = cloud.principal("pfx-app")
    path, cert_pem = make_certificate(tmp_path / "app.pem")
    tokens.add_certificate(cloud.env, client, cert_pem)
    from cryptography import x509

    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    pfx = pkcs12.serialize_key_and_certificates(
        b"app",
        key,
        x509.load_pem_x509_certificate(cert_pem),
        None,
        serialization.BestAvailableEncryption(b"pw"),
    )
    (tmp_path / "app.pfx").write_bytes(pfx)
    config = {
        "client_id": client,
        "client_certificate_path": str(tmp_path / "app.pfx"),
        "client_certificate_password": "pw",
    }
    cloud.signs_in_as(oid, config)


def test_oidc_token(cloud, monkeypatch):
    oid, client = cloud.principal("oidc-app")
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, "system:serviceaccount:ci:deployer")
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv(
        "ARM_OIDC_TOKEN", cloud.issuer.token("system:serviceaccount:ci:deployer", tokens.EXCHANGE_AUDIENCE)
    )
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.OIDC_TOKEN
    cloud.signs_in_as(oid)


def test_oidc_token_file(cloud, monkeypatch, tmp_path):
    oid, client = cloud.principal("aks-app")
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, "system:serviceaccount:ci:aks")
    token_file = tmp_path / "token"
    token_file.write_text(cloud.issuer.token("system:serviceaccount:ci:aks", tokens.EXCHANGE_AUDIENCE))
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ARM_OIDC_TOKEN_FILE_PATH", str(token_file))
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.OIDC_TOKEN_FILE
    cloud.signs_in_as(oid)


def test_oidc_without_use_oidc_is_not_used(cloud, monkeypatch):
    """azurerm reads OIDC settings only when use_oidc is on."""
    _, client = cloud.principal("oidc-off")
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_OIDC_TOKEN", "x")
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.DEFAULT_CHAIN


def test_github_actions_with_only_use_oidc_and_the_actions_variables(cloud, monkeypatch):
    oid, client = cloud.principal("github-app")
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, GITHUB_SUBJECT)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", cloud.issuer.github_request_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", cloud.issuer.request_token)
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.GITHUB_OIDC
    cloud.signs_in_as(oid)
    assert "GET /github/idtoken" in cloud.issuer.requests


def test_github_actions_apply_signs_in_as_the_right_identity(cloud, monkeypatch, tmp_path):
    """A whole `vaultform apply`, as a GitHub Actions job runs it."""
    import shutil

    oid, client = cloud.principal("github-apply")
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, GITHUB_SUBJECT)
    work = tmp_path / "work"
    shutil.copytree(FIXTURES / "resource_group", work)
    job_env = {
        **{k: v for k, v in os.environ.items() if k not in SIGN_IN_VARIABLES},
        **cloud.base_env,
        "ARM_CLIENT_ID": client,
        "ARM_USE_OIDC": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": cloud.issuer.github_request_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": cloud.issuer.request_token,
    }
    run = subprocess.run(
        [sys.executable, "-m", "reconciler.cli.main", "apply", "-auto-approve", "-no-color"],
        cwd=work,
        env=job_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert oid in run.stdout
    writes = [
        a for a in cloud.env.activity("/subscriptions") if a["resource_id"].lower().endswith("rg-signed-in")
    ]
    assert writes and {a["principal_id"] for a in writes} == {oid}
    assert cloud.issuer.request_token not in run.stdout + run.stderr


def test_azure_devops_service_connection(cloud, monkeypatch):
    oid, client = cloud.principal("ado-app")
    connection = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, ADO_SUBJECT_PREFIX + connection)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", connection)
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", cloud.issuer.ado_access_token)
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", cloud.issuer.ado_request_url)
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.ADO_PIPELINE_OIDC
    cloud.signs_in_as(oid)
    assert "POST /ado/oidctoken" in cloud.issuer.requests


def test_azure_devops_with_the_azapi_variable_name(cloud, monkeypatch):
    oid, client = cloud.principal("ado-azapi")
    connection = "0a0b0c0d-1e1f-4a2b-8c3d-4e5f6a7b8c9d"
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, ADO_SUBJECT_PREFIX + connection)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ARM_OIDC_AZURE_SERVICE_CONNECTION_ID", connection)
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", cloud.issuer.ado_access_token)
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", cloud.issuer.ado_request_url)
    cloud.signs_in_as(oid)


def test_provider_block_arguments_for_oidc_requests(cloud):
    oid, client = cloud.principal("block-app")
    tokens.add_federated_credential(cloud.env, client, cloud.issuer.url, GITHUB_SUBJECT)
    config = {
        "client_id": client,
        "use_oidc": True,
        "oidc_request_url": cloud.issuer.github_request_url,
        "oidc_request_token": cloud.issuer.request_token,
    }
    cloud.signs_in_as(oid, config)


def test_a_certificate_wins_over_a_secret_and_oidc_as_in_azurerm(cloud, monkeypatch, tmp_path):
    oid, client = cloud.principal("both-app")
    path, cert_pem = make_certificate(tmp_path / "both.pem")
    tokens.add_certificate(cloud.env, client, cert_pem)
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_CLIENT_SECRET", "wrong-secret-never-used")
    monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PATH", str(path))
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv("ARM_OIDC_TOKEN", "never-used")
    cloud.signs_in_as(oid)


def test_the_block_wins_over_the_environment(cloud, monkeypatch):
    oid, client = cloud.principal("block-wins")
    _, other = cloud.principal("env-loses")
    monkeypatch.setenv("ARM_CLIENT_ID", other)
    monkeypatch.setenv("ARM_CLIENT_SECRET", tokens.add_client_secret(cloud.env, other))
    cloud.signs_in_as(
        oid, {"client_id": client, "client_secret": tokens.add_client_secret(cloud.env, client)}
    )


def test_a_federated_token_for_another_subject_is_refused(cloud, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError

    _, client = cloud.principal("strict-app")
    tokens.add_federated_credential(
        cloud.env, client, cloud.issuer.url, "repo:example/estate:environment:prod"
    )
    monkeypatch.setenv("ARM_CLIENT_ID", client)
    monkeypatch.setenv("ARM_USE_OIDC", "true")
    monkeypatch.setenv(
        "ARM_OIDC_TOKEN",
        cloud.issuer.token("repo:example/fork:ref:refs/heads/main", tokens.EXCHANGE_AUDIENCE),
    )
    factory = ClientFactory(target_from({"cloud": "azure"}, os.environ))
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        factory.caller()


@pytest.mark.parametrize(
    ("environment", "authority", "arm"),
    [
        ("public", "login.microsoftonline.com", "https://management.azure.com"),
        ("usgovernment", "login.microsoftonline.us", "https://management.usgovcloudapi.net"),
        ("china", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
    ],
)
def test_arm_environment_picks_the_authority_and_endpoints(environment, authority, arm):
    environ = {
        "ARM_ENVIRONMENT": environment,
        "ARM_SUBSCRIPTION_ID": "s",
        "ARM_TENANT_ID": "00000000-0000-0000-0000-000000000001",
        "ARM_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
        "ARM_CLIENT_SECRET": "x",
    }
    target = target_from({"cloud": "azure"}, environ)
    assert target.cloud.authority == authority and target.cloud.arm == arm
    from providers.azurerm.clients import credential_for

    assert (
        credential_for(target)._authority == f"https://{authority}"
    )  # azure-identity's normalised authority


def test_managed_identity_of_the_host(cloud, monkeypatch):
    """ARM_USE_MSI with ARM_CLIENT_ID naming a user-assigned identity, through the App Service managed
    identity endpoint the local Azure serves (IDENTITY_ENDPOINT / IDENTITY_HEADER)."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    from providers.azurelocal.credential import LocalCredential
    from providers.azurelocal.transport import local_transport

    msi = ManagedServiceIdentityClient(
        LocalCredential(), cloud.env.subscription_id, transport=local_transport(cloud.env)
    )
    uai = msi.user_assigned_identities.create_or_update("rg-workloads", "id-ci", {"location": "westeurope"})
    monkeypatch.setenv("ARM_USE_MSI", "true")
    monkeypatch.setenv("ARM_CLIENT_ID", uai.client_id)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{cloud.server.book.arm_base}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", cloud.server.identity_header)
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.MANAGED_IDENTITY
    cloud.signs_in_as(uai.principal_id)
    monkeypatch.setenv("IDENTITY_HEADER", "a-guess")  # without the endpoint's secret, no token
    from azure.core.exceptions import ClientAuthenticationError

    factory = ClientFactory(target_from({"cloud": "azure"}, os.environ))
    with pytest.raises(ClientAuthenticationError):
        factory.caller()


def test_azure_cli_account(cloud, monkeypatch):
    """ARM_USE_CLI=true signs in with the Azure CLI's account (`az account get-access-token`)."""
    bin_dir = FIXTURES / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("VAULTFORM_TEST_PYTHON", sys.executable)
    monkeypatch.setenv("VAULTFORM_LOCAL_AZURE", str(cloud.env.store.path))
    monkeypatch.setenv("ARM_USE_CLI", "true")
    assert sign_in_method(target_from({"cloud": "azure"}, os.environ)) is SignIn.AZURE_CLI
    cloud.signs_in_as(cloud.env.deployer_object_id)


def test_managed_identity_at_a_custom_endpoint(cloud, monkeypatch):
    """ARM_USE_MSI with ARM_MSI_ENDPOINT: the instance metadata service's request shape, at the address
    given (as go-azure-sdk asks it)."""
    from azure.mgmt.msi import ManagedServiceIdentityClient

    from providers.azurelocal.credential import LocalCredential
    from providers.azurelocal.transport import local_transport
    from providers.azurerm.clients import MsiEndpointCredential, credential_for

    msi = ManagedServiceIdentityClient(
        LocalCredential(), cloud.env.subscription_id, transport=local_transport(cloud.env)
    )
    uai = msi.user_assigned_identities.create_or_update("rg-workloads", "id-imds", {"location": "westeurope"})
    monkeypatch.setenv("ARM_USE_MSI", "true")
    monkeypatch.setenv("ARM_CLIENT_ID", uai.client_id)
    monkeypatch.setenv("ARM_MSI_ENDPOINT", f"{cloud.server.book.arm_base}/metadata/identity/oauth2/token")
    monkeypatch.setenv("IDENTITY_HEADER", cloud.server.identity_header)
    assert isinstance(credential_for(target_from({"cloud": "azure"}, os.environ)), MsiEndpointCredential)
    cloud.signs_in_as(uai.principal_id)


def test_a_secret_that_does_not_sign_in_is_one_error_before_any_read(cloud, monkeypatch, tmp_path, capsys):
    # azurerm signs in while it configures (it reads the token's claims): a bad credential is one
    # error, not the same failure for every object the refresh reads, and the SDK's own warning
    # about the failed token request stays off the terminal
    _object_id, client_id = cloud.principal("deployer")
    monkeypatch.setenv("ARM_CLIENT_ID", client_id)
    monkeypatch.setenv("ARM_CLIENT_SECRET", "not-the-secret")
    provider = AzurermProvider()
    diags = provider.configure({})
    assert [d.code for d in diags] == ["sign_in_failed"]
    assert (
        diags[0].summary == "Could not sign in to Azure" and "nothing was read or changed" in diags[0].detail
    )

    (tmp_path / "main.tf").write_text(
        'resource "azurerm_resource_group" "rg" {\n  name = "rg-x"\n  location = "westeurope"\n}\n'
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["-chdir=" + str(tmp_path), "plan", "-no-color"], output=Output(out=out, err=err, no_color=True)
    )
    assert code == 1
    assert err.getvalue().count("Could not sign in to Azure") == 1
    assert "get_token" not in err.getvalue() + out.getvalue() + capsys.readouterr().err
