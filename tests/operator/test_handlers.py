"""kopf logs in with our own cluster configuration, and is set up to only watch."""

from __future__ import annotations

from pathlib import Path

import kopf

from aimsource.kube import KubeConfig
from aimsource.operator.handlers import NoEssenceStorage, build_registry, connection_info, kopf_settings


def test_login_uses_the_token_file_as_read_now(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("rotated-token\n")
    info = connection_info(
        KubeConfig(
            server="https://10.0.0.1:443", token_file=str(token), ca_file="/sa/ca.crt", namespace="aim-system"
        )
    )
    assert (info.server, info.scheme, info.token, info.ca_path) == (
        "https://10.0.0.1:443",
        "Bearer",
        "rotated-token",
        "/sa/ca.crt",
    )
    assert info.default_namespace == "aim-system"


def test_login_with_client_certificate_data_and_no_token() -> None:
    info = connection_info(
        KubeConfig(server="https://k8s:6443", client_cert_data="CERT", client_key_data="KEY", insecure=True)
    )
    assert (info.token, info.scheme, info.insecure) == (None, None, True)
    assert (info.certificate_data, info.private_key_data) == ("CERT", "KEY")


def test_kopf_only_watches() -> None:
    settings = kopf_settings()
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert isinstance(settings.persistence.diffbase_storage, NoEssenceStorage)
    assert isinstance(settings.persistence.diffbase_storage, kopf.AnnotationsDiffBaseStorage)
    assert settings.posting.enabled is False
    assert settings.peering.standalone is True


def test_no_essence_is_built_and_no_handler_needs_one() -> None:
    """kopf's essence of an object (a deep copy of its body) serves change and daemon handlers only;
    with none registered, an empty one changes nothing, and costs nothing per watch event."""
    body = kopf.Body(
        {
            "apiVersion": "aim.eai.amd.com/v1alpha1",
            "kind": "AIMClusterModel",
            "metadata": {"name": "m", "labels": {"a": "b"}, "managedFields": [{"manager": "aimsource"}]},
            "spec": {"image": "ghcr.io/org/m:1.0.0"},
        }
    )
    assert NoEssenceStorage(prefix="aimsource.eai.amd.com").build(body=body) == {}
    registry = build_registry(None, None)  # type: ignore[arg-type]  # the handlers are not called
    assert registry._changing.get_all_handlers() == []
    assert registry._spawning.get_all_handlers() == []
    assert registry._indexing.get_all_handlers() == []
    # kopf watches the sources only; the models are watched by `ModelWatch`.
    watched = [h.selector.any_name for h in registry._watching.get_all_handlers() if h.selector is not None]
    assert watched == ["aimclustermodelsources"]
