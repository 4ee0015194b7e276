"""Our client on an HTTPS API server: certificate authorities, skip-verify and client certificates.

The server is the emulator speaking TLS with a loopback certificate; the client is configured
from a kubeconfig, as in production.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from aimsource.kube import ClientSettings, KubeClient, KubeConfig, TLSVerificationError, UnauthorizedError
from aimsource.kube.config import kubeconfig_from_files
from tests.support.kubeapi import KubeAPI
from tests.support.kubeapi_tls import make_client_certificate, make_server_tls

SETTINGS = ClientSettings(timeout=2.0, retries=1, backoff=0.01)
MODELS = "/apis/aim.eai.amd.com/v1alpha1/aimclustermodels"


async def list_models(config: KubeConfig) -> list[dict[str, Any]]:
    async with KubeClient(config, SETTINGS) as client:
        items: list[dict[str, Any]] = (await client.request("GET", MODELS))["items"]
        return items


def rewrite(path: Path, *, cluster: dict[str, Any] | None = None, user: dict[str, Any] | None = None) -> Path:
    doc = yaml.safe_load(path.read_text())
    doc["clusters"][0]["cluster"].update(cluster or {})
    doc["users"][0]["user"].update(user or {})
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_ca_file_from_kubeconfig_verifies_the_server(tmp_path: Path) -> None:
    with KubeAPI(tls=make_server_tls(tmp_path)) as api:
        assert api.url.startswith("https://")
        config = kubeconfig_from_files([api.write_kubeconfig(tmp_path / "kc")])
        assert await list_models(config) == []


async def test_inline_ca_data_verifies_the_server(tmp_path: Path) -> None:
    tls = make_server_tls(tmp_path)
    with KubeAPI(tls=tls) as api:
        path = api.write_kubeconfig(tmp_path / "kc")
        ca = base64.b64encode(tls.authority.ca_file.read_bytes()).decode()
        rewrite(path, cluster={"certificate-authority": None, "certificate-authority-data": ca})
        assert await list_models(kubeconfig_from_files([path])) == []


async def test_untrusted_server_is_refused_without_retrying(tmp_path: Path) -> None:
    with KubeAPI(tls=make_server_tls(tmp_path)) as api:
        path = rewrite(api.write_kubeconfig(tmp_path / "kc"), cluster={"certificate-authority": None})
        with pytest.raises(TLSVerificationError, match="TLS certificate verification failed"):
            await list_models(kubeconfig_from_files([path]))
        assert api.requests == []


async def test_insecure_skip_tls_verify_connects_anyway(tmp_path: Path) -> None:
    with KubeAPI(tls=make_server_tls(tmp_path)) as api:
        path = rewrite(
            api.write_kubeconfig(tmp_path / "kc"),
            cluster={"certificate-authority": None, "insecure-skip-tls-verify": True},
        )
        assert await list_models(kubeconfig_from_files([path])) == []


@pytest.mark.parametrize("inline", [False, True], ids=["files", "inline-data"])
async def test_client_certificate_authenticates(tmp_path: Path, inline: bool) -> None:
    client = make_client_certificate(tmp_path / "client")
    with KubeAPI(tls=make_server_tls(tmp_path, client=client), token="nobody-has-it") as api:
        path = api.write_kubeconfig(tmp_path / "kc", client=client)
        rewrite(path, user={"token": None})
        if inline:
            rewrite(
                path,
                user={
                    "client-certificate": None,
                    "client-key": None,
                    "client-certificate-data": base64.b64encode(client.cert_file.read_bytes()).decode(),
                    "client-key-data": base64.b64encode(client.key_file.read_bytes()).decode(),
                },
            )
        assert await list_models(kubeconfig_from_files([path])) == []


async def test_without_client_certificate_or_token_is_401(tmp_path: Path) -> None:
    client = make_client_certificate(tmp_path / "client")
    with KubeAPI(tls=make_server_tls(tmp_path, client=client), token="secret") as api:
        path = rewrite(api.write_kubeconfig(tmp_path / "kc"), user={"token": None})
        with pytest.raises(UnauthorizedError):
            await list_models(kubeconfig_from_files([path]))
