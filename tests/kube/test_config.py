"""Finding the API server: kubeconfig files (as kubectl reads them) and the in-cluster service account."""

from __future__ import annotations

import base64
import datetime
import logging
import os
import ssl
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aimsource.kube import KubeClient, KubeConfig, KubeConfigError, load_kube_config, operator_namespace
from tests.support.kubeapi import KubeAPI


def self_signed() -> tuple[str, str]:
    """A PEM certificate and key, for CA and client-certificate settings."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def kubeconfig(
    path: Path,
    *,
    current: str | None = "main",
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    namespace: str | None = None,
    name: str = "main",
) -> Path:
    ctx: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        ctx["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": name, "cluster": cluster or {"server": f"https://{name}.example:6443"}}],
        "users": [{"name": name, "user": user or {}}],
        "contexts": [{"name": name, "context": ctx}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def load(tmp_path: Path, *paths: Path, context: str | None = None) -> KubeConfig:
    env = {"KUBECONFIG": ":".join(str(p) for p in paths)} if paths else {"HOME": str(tmp_path)}
    return load_kube_config(environ=env, context=context, service_account_dir=tmp_path / "no-sa")


def test_token_user_and_context_namespace(tmp_path: Path) -> None:
    config = load(tmp_path, kubeconfig(tmp_path / "kc", user={"token": "abc"}, namespace="team"))
    assert (config.server, config.token, config.namespace) == ("https://main.example:6443", "abc", "team")
    assert "abc" not in repr(config)


def test_home_kube_config_is_the_default(tmp_path: Path) -> None:
    kubeconfig(tmp_path / ".kube" / "config")
    assert load(tmp_path).server == "https://main.example:6443"


def test_first_file_of_kubeconfig_list_wins(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "a", cluster={"server": "https://first:1"})
    second = kubeconfig(tmp_path / "b", cluster={"server": "https://second:2"}, current="other")
    assert load(tmp_path, first, second).server == "https://first:1"


def test_explicit_context(tmp_path: Path) -> None:
    one = kubeconfig(tmp_path / "a", name="one")
    two = kubeconfig(tmp_path / "b", name="two", current=None)
    assert load(tmp_path, one, two, context="two").server == "https://two.example:6443"


def test_relative_certificate_paths_are_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    cert, key = self_signed()
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ca.crt").write_text(cert)
    (tmp_path / "conf" / "client.crt").write_text(cert)
    (tmp_path / "conf" / "client.key").write_text(key)
    config = load(
        tmp_path,
        kubeconfig(
            tmp_path / "conf" / "kc",
            cluster={"server": "https://main:6443", "certificate-authority": "ca.crt"},
            user={"client-certificate": "client.crt", "client-key": "client.key"},
        ),
    )
    assert config.ca_file == str(tmp_path / "conf" / "ca.crt")
    assert config.client_key_file == str(tmp_path / "conf" / "client.key")
    context = config.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_inline_certificate_data(tmp_path: Path) -> None:
    cert, key = self_signed()
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    config = load(
        tmp_path,
        kubeconfig(
            tmp_path / "kc",
            cluster={"server": "https://main:6443", "certificate-authority-data": b64(cert)},
            user={"client-certificate-data": b64(cert), "client-key-data": b64(key)},
        ),
    )
    assert config.ca_data == cert
    assert "PRIVATE KEY" not in repr(config)
    context = config.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.get_ca_certs()  # the inline CA is trusted


def test_insecure_skip_tls_verify(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        kubeconfig(
            tmp_path / "kc", cluster={"server": "https://main:6443", "insecure-skip-tls-verify": True}
        ),
    )
    context = config.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE


def test_basic_auth(tmp_path: Path) -> None:
    config = load(tmp_path, kubeconfig(tmp_path / "kc", user={"username": "u", "password": "p4ss"}))
    assert config.basic_auth() == ("u", "p4ss")
    assert "p4ss" not in repr(config)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"current": None}, "has no current-context", id="no-context"),
        pytest.param({"current": "ghost"}, 'context "ghost" not found', id="unknown-context"),
        pytest.param({"user": {"exec": {"command": "aws"}}}, 'user "main"', id="exec-plugin"),
        pytest.param(
            {"cluster": {"server": "https://x", "certificate-authority-data": "not base64!"}},
            "certificate-authority-data",
            id="bad-ca-data",
        ),
        pytest.param({"cluster": {"insecure-skip-tls-verify": True}}, "has no server", id="no-server"),
    ],
)
def test_unusable_kubeconfig_is_explained(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(KubeConfigError, match=message):
        load(tmp_path, kubeconfig(tmp_path / "kc", **kwargs))


def shown(error: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """All a log could show of `error`: its traceback with causes, and any DEBUG line about it."""
    return "".join(traceback.format_exception(error)) + "".join(str(vars(r)) for r in caplog.records)


def test_a_kubeconfig_that_is_not_yaml_is_named_without_its_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "kc"
    path.write_text("users:\n- name: main\n  user:\n    token: XYZZY-token: [\n")
    with pytest.raises(KubeConfigError, match="cannot read kubeconfig") as info:
        load(tmp_path, path)
    assert "XYZZY" not in shown(info.value, caplog)
    assert info.value.__cause__ is None  # the cause keeps what it read
    assert info.value.__suppress_context__


def test_a_kubeconfig_nested_too_deeply_is_named_without_its_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "kc"
    path.write_text(
        "users:\n- name: main\n  user:\n    token: XYZZY-token\nx: " + "[" * 50_000 + "]" * 50_000
    )
    with pytest.raises(KubeConfigError, match=f"cannot read kubeconfig {path}: nested too deeply") as info:
        load(tmp_path, path)
    assert "XYZZY" not in shown(info.value, caplog)


def test_key_data_that_is_not_text_is_named_without_its_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = {"token": "t", "client-key-data": base64.b64encode(b"\xffXYZZY-key").decode()}
    with pytest.raises(KubeConfigError, match="client-key-data") as info:
        load(tmp_path, kubeconfig(tmp_path / "kc", user=user))
    assert "XYZZY" not in shown(info.value, caplog)
    assert info.value.__cause__ is None  # the cause keeps what it read
    assert info.value.__suppress_context__


@pytest.mark.parametrize(
    "user",
    [
        pytest.param({"client-certificate": "missing.crt", "client-key": "missing.key"}, id="missing-files"),
        pytest.param(
            {
                "client-certificate-data": base64.b64encode(b"not a certificate").decode(),
                "client-key-data": base64.b64encode(b"not a key").decode(),
            },
            id="garbage-data",
        ),
    ],
)
def test_unloadable_certificates_are_a_config_error(tmp_path: Path, user: dict[str, Any]) -> None:
    config = load(tmp_path, kubeconfig(tmp_path / "kc", user=user))
    with pytest.raises(KubeConfigError, match="cannot load the TLS certificates"):
        KubeClient(config)


def test_no_configuration_at_all(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match="no Kubernetes configuration"):
        load(tmp_path)


def service_account(tmp_path: Path, *, namespace: str = "ops") -> Path:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token\n")
    (sa / "ca.crt").write_text(self_signed()[0])
    (sa / "namespace").write_text(namespace)
    return sa


@pytest.mark.parametrize(
    ("host", "server"),
    [
        pytest.param("10.0.0.1", "https://10.0.0.1:443", id="ipv4"),
        pytest.param("fd00::1", "https://[fd00::1]:443", id="ipv6"),
    ],
)
def test_in_cluster_service_account(tmp_path: Path, host: str, server: str) -> None:
    sa = service_account(tmp_path)
    kubeconfig(tmp_path / ".kube" / "config")  # ignored in a pod
    env = {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "443", "HOME": str(tmp_path)}
    config = load_kube_config(environ=env, service_account_dir=sa)
    assert (config.server, config.namespace, config.origin) == (server, "ops", "in-cluster")
    assert (config.token_file, config.ca_file) == (str(sa / "token"), str(sa / "ca.crt"))


def test_operator_namespace(tmp_path: Path) -> None:
    assert operator_namespace(service_account_dir=service_account(tmp_path, namespace="team-a")) == "team-a"
    assert operator_namespace(service_account_dir=tmp_path / "absent") == "aim-system"


async def test_client_reads_the_service_account_token_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("rotating-token\n")
    with KubeAPI(token="rotating-token") as api:
        async with KubeClient(KubeConfig(server=api.url, token_file=str(token))) as client:
            assert (await client.request("GET", "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"))[
                "items"
            ] == []


def raw_kubeconfig(path: Path, **replace: Any) -> Path:
    doc: dict[str, Any] = {
        "current-context": "main",
        "clusters": [{"name": "main", "cluster": {"server": "https://main.example:6443"}}],
        "users": [{"name": "main", "user": {"token": "XYZZY-token"}}],
        "contexts": [{"name": "main", "context": {"cluster": "main", "user": "main"}}],
    }
    doc.update(replace)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        pytest.param(
            {"clusters": [{"name": "main", "cluster": "https://main.example:6443"}]},
            'cluster "main" in kubeconfig .* is not a mapping \\(it is a string\\)',
            id="cluster-a-string",
        ),
        pytest.param(
            {"contexts": [{"name": "main", "context": "main"}]},
            'context "main" in kubeconfig .* is not a mapping',
            id="context-a-string",
        ),
        pytest.param(
            {"users": [{"name": "main", "user": ["XYZZY-token"]}]},
            'user "main" in kubeconfig .* is not a mapping \\(it is a list\\)',
            id="user-a-list",
        ),
        pytest.param({"clusters": "main"}, "clusters in kubeconfig .* is not a list", id="clusters-a-string"),
        pytest.param(
            {"users": ["main"]}, "an entry of users in kubeconfig .* is not a mapping", id="user-entry"
        ),
        pytest.param(
            {"contexts": [{"name": "main", "context": {"cluster": ["main"], "user": "main"}}]},
            'context "main": cluster in kubeconfig .* is not a string',
            id="context-cluster-a-list",
        ),
        pytest.param(
            {"users": [{"name": "main", "user": {"token": {"XYZZY": 1}}}]},
            'user "main": token in kubeconfig .* is not a string \\(it is a mapping\\)',
            id="token-a-mapping",
        ),
        pytest.param(
            {
                "clusters": [
                    {"name": "main", "cluster": {"server": "https://x", "insecure-skip-tls-verify": "no"}}
                ]
            },
            "insecure-skip-tls-verify .* is not true or false",
            id="insecure-a-string",
        ),
    ],
)
def test_a_malformed_kubeconfig_is_one_line_naming_what_is_wrong(
    tmp_path: Path, replace: dict[str, Any], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(KubeConfigError, match=message) as info:
        load(tmp_path, raw_kubeconfig(tmp_path / "kc", **replace))
    assert "\n" not in str(info.value)
    assert "XYZZY" not in str(info.value)


def test_a_kubeconfig_that_is_not_utf8_is_one_line_without_its_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "kc"
    path.write_bytes(b"users:\n- name: main\n  user:\n    token: XYZZY-\xff\xfe-token\n")
    with pytest.raises(KubeConfigError, match=f"cannot read kubeconfig {path}: not UTF-8 text") as info:
        load(tmp_path, path)
    assert "XYZZY" not in shown(info.value, caplog)
    assert info.value.__cause__ is None


def test_run_names_a_malformed_kubeconfig_in_one_line(tmp_path: Path) -> None:
    path = raw_kubeconfig(tmp_path / "kc", clusters=[{"name": "main", "cluster": "https://x"}])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMSOURCE_", "KUBERNETES_"))}
    env["KUBECONFIG"] = str(path)
    done = subprocess.run(
        [sys.executable, "-m", "aimsource", "run", "--metrics-port", "0", "--health-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "is not a mapping" in done.stderr
