"""`vaultform init` installs remote modules: git sources with ?ref= and //subdir, registry
modules through the registry protocol (served here over HTTPS on 127.0.0.1) with version
constraints, and says what to do when it can't; plan reads installed modules without network."""

from __future__ import annotations

import io
import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from providers.azurelocal.server import ensure_certificates
from reconciler.cli.main import main
from reconciler.cli.output import Output

MODULE = """variable "v" {
  type = string
}
resource "terraform_data" "x" {
  input = "${var.v}-%s"
}
output "o" {
  value = terraform_data.x.output
}
"""


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), output=Output(out=out, err=err, no_color=True))
    return code, out.getvalue(), err.getvalue()


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def module_repo(tmp_path) -> Path:
    """A bare git repository whose tags v1.0.0, v1.1.5 and v2.0.0 hold one module in modules/data."""
    work = tmp_path / "work"
    (work / "modules" / "data").mkdir(parents=True)
    _git("init", "-q", cwd=work)
    for tag in ("v1.0.0", "v1.1.5", "v2.0.0"):
        (work / "modules" / "data" / "main.tf").write_text(MODULE % tag)
        _git("add", "-A", cwd=work)
        _git("commit", "-qm", tag, cwd=work)
        _git("tag", tag, cwd=work)
    bare = tmp_path / "repo.git"
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return bare


def _config(tmp_path: Path, source: str, version: str | None = None) -> Path:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    pinned = f'\n  version = "{version}"' if version else ""
    (config / "main.tf").write_text(
        f'module "data" {{\n  source = "{source}"{pinned}\n  v = "hi"\n}}\n'
        'output "o" {\n  value = module.data.o\n}\n'
    )
    return config


def test_plan_before_init_names_the_module_and_the_command(tmp_path, module_repo):
    config = _config(tmp_path, f"git::file://{module_repo}//modules/data?ref=v1.0.0")
    code, _out, err = _run("plan", str(config))
    assert code == 1
    assert "main.tf line 2" in err and 'Module "data"' in err and "vaultform init" in err


def test_git_source_with_ref_and_subdirectory_installs_and_plans_offline(tmp_path, module_repo):
    config = _config(tmp_path, f"git::file://{module_repo}//modules/data?ref=v1.1.5")
    code, out, err = _run("init", str(config))
    assert code == 0, err
    assert "- data: fetched" in out and "successfully initialized" in out
    manifest = json.loads((config / ".vaultform/modules/modules.json").read_text())
    assert manifest["Modules"] == [
        {
            "Key": "data",
            "Source": f"git::file://{module_repo}//modules/data?ref=v1.1.5",
            "Version": "",
            "Dir": ".vaultform/modules/data/modules/data",
        }
    ]
    module_repo.rename(module_repo.with_name("gone.git"))  # no more "network"
    code, out, err = _run("apply", str(config), "-auto-approve", "-state", str(tmp_path / "s.tfstate"))
    assert code == 0, err
    assert 'o = "hi-v1.1.5"' in out
    assert "already in" in _run("init", str(config))[1]  # kept, not fetched again


def test_a_changed_ref_asks_for_init_again(tmp_path, module_repo):
    config = _config(tmp_path, f"git::file://{module_repo}//modules/data?ref=v1.0.0")
    assert _run("init", str(config))[0] == 0
    _config(tmp_path, f"git::file://{module_repo}//modules/data?ref=v2.0.0")
    code, _out, err = _run("validate", str(config))
    assert code == 1 and "changed since it was installed" in err
    assert _run("init", str(config))[0] == 0
    assert _run("validate", str(config))[0] == 0


class _Registry(BaseHTTPRequestHandler):
    repo: Path

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/.well-known/terraform.json":
            self._json({"modules.v1": "/v1/modules/"})
        elif self.path == "/v1/modules/acme/data/azurerm/versions":
            self._json({"modules": [{"versions": [{"version": v} for v in ("1.0.0", "1.1.5", "2.0.0")]}]})
        elif self.path.startswith("/v1/modules/acme/data/azurerm/") and self.path.endswith("/download"):
            version = self.path.split("/")[-2]
            self.send_response(204)
            self.send_header("X-Terraform-Get", f"git::file://{self.repo}?ref=v{version}")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def _json(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def registry(tmp_path, module_repo, monkeypatch):
    tls = ensure_certificates(tmp_path / "tls")
    handler = type("Registry", (_Registry,), {"repo": module_repo})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))
    try:
        yield f"localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_registry_module_takes_the_newest_version_the_constraint_allows(tmp_path, registry):
    config = _config(tmp_path, f"{registry}/acme/data/azurerm//modules/data", "~> 1.1")
    code, out, err = _run("init", str(config))
    assert code == 0, err
    assert "1.1.5" in out
    entry = json.loads((config / ".vaultform/modules/modules.json").read_text())["Modules"][0]
    assert entry["Version"] == "1.1.5"
    code, out, err = _run("apply", str(config), "-auto-approve", "-state", str(tmp_path / "s.tfstate"))
    assert code == 0 and 'o = "hi-v1.1.5"' in out, err


def test_a_version_no_release_meets_is_named_with_what_exists(tmp_path, registry):
    config = _config(tmp_path, f"{registry}/acme/data/azurerm//modules/data", ">= 3.0")
    code, _out, err = _run("init", str(config))
    assert code == 1
    assert "has no version matching '>= 3.0'" in err and "1.0.0, 1.1.5, 2.0.0" in err


def test_an_unreachable_registry_says_what_to_fetch(tmp_path):
    config = _config(tmp_path, "127.0.0.1:9/acme/data/azurerm", "1.0.0")
    code, _out, err = _run("init", str(config))
    assert code == 1
    assert "can't be reached" in err and "127.0.0.1:9" in err and "vendor the module" in err


def test_a_local_configuration_needs_no_init(tmp_path):
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = 1\n}\n')
    code, out, _err = _run("init", str(tmp_path))
    assert code == 0
    assert "no modules are called" in out and "need no init" in out
    assert not (tmp_path / ".vaultform").exists()
