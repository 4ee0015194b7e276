"""The operator's `sync.ports.SecretReader`: pull secrets from the operator namespace."""

from __future__ import annotations

from aimsource.kube import KubeClient
from aimsource.kube import SecretError as KubeSecretError
from aimsource.sync.ports import SecretError


class NamespaceSecrets:
    """`sync.ports.SecretReader` over the operator namespace; secrets are read on every sync, so a
    rotated secret or a changed `allowed-sources` annotation counts from the next sync on."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self._kube = kube
        self._namespace = namespace

    async def read(self, name: str, *, source: str) -> bytes:
        try:
            return await self._kube.read_pull_secret(self._namespace, name, source=source)
        except KubeSecretError as exc:
            raise SecretError(str(exc)) from exc
