"""Push small AIM-like images into a registry through the distribution HTTP API (no docker daemon).

An image here is a config blob carrying AIM's labels, one tiny gzipped layer and a manifest in one
of the formats a client must accept on a manifest HEAD: Docker schema 2, OCI, an OCI index or a
Docker manifest list. Large repositories are cheap: the same manifest is PUT under many tags
(1,000 tags cost 1,000 small PUTs and two blob uploads).

The pusher answers the registry's challenge itself (Basic, or a Bearer token for
`repository:<name>:pull,push` from the challenge's realm), so it works in every mode of
`registry_server`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import threading
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from tests.support.tls import client_verify

ManifestKind = Literal["docker", "oci", "oci-index", "docker-list"]

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

MANIFEST_MEDIA_TYPES = (DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX)
"""What a client should put in `Accept` on a manifest HEAD to get any of these."""


class PushError(RuntimeError):
    """The registry refused a push; the message names the repository, the step and the status."""


@dataclass(frozen=True)
class PushedImage:
    repository: str
    tags: tuple[str, ...]
    digest: str
    """`sha256:...` of the top-level manifest: what a manifest HEAD returns as Docker-Content-Digest."""
    media_type: str
    config_digest: str


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def aim_labels(repository: str) -> dict[str, str]:
    """Labels resembling AMD's AIM images: `amdenterpriseai/aim-qwen-qwen3-32b` -> `qwen/qwen3-32b`."""
    name = repository.rsplit("/", 1)[-1].removeprefix("aim-")
    vendor, _, model = name.partition("-")
    return {
        "com.amd.aim.model.canonicalName": f"{vendor}/{model}" if model else name,
        "com.amd.aim.model.source": "huggingface",
        "com.amd.aim.title": f"AIM {name}",
        "org.opencontainers.image.vendor": "AMD",
    }


def _layer() -> bytes:
    """A deterministic gzipped tar with one small file (same bytes on every call)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = b'{"aim": "test image"}\n'
        info = tarfile.TarInfo("aim/model.json")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    return gzip.compress(raw.getvalue(), mtime=0)


def _config_blob(labels: dict[str, str]) -> bytes:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": labels, "Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(gzip.decompress(_layer()))]},
        # Real images have a history; with it distribution 2.8 answers a manifest request without
        # an Accept header by converting to schema 1 (another digest!), as it does for real images.
        "history": [{"created": "2025-01-01T00:00:00Z", "created_by": "COPY aim/model.json /aim/"}],
    }
    return json.dumps(config, sort_keys=True).encode()


_REPO_IN_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?:blobs|manifests|tags)/")


class _ChallengeAuth(httpx.Auth):
    """Answers 401 challenges: Basic with the credentials, or a Bearer token from the realm.

    Tokens are cached per repository; once a registry asked for Basic, Basic is sent up front.
    """

    def __init__(self, username: str | None, password: str | None) -> None:
        self._basic = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
            if username is not None and password is not None
            else None
        )
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self._basic_known = False

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        match = _REPO_IN_PATH.match(request.url.path)
        repo = match["name"] if match else ""
        with self._lock:
            token, basic_known = self._tokens.get(repo), self._basic_known
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        elif basic_known and self._basic:
            request.headers["Authorization"] = self._basic
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic" and self._basic:
            with self._lock:
                self._basic_known = True
            request.headers["Authorization"] = self._basic
            yield request
        elif scheme == "bearer" and "realm" in params:
            query = {"service": params.get("service", "")}
            query["scope"] = f"repository:{repo}:pull,push" if repo else params.get("scope", "")
            token_request = httpx.Request("GET", params["realm"] + "?" + urlencode(query))
            if self._basic:
                token_request.headers["Authorization"] = self._basic
            token_response = yield token_request
            token_response.read()
            if token_response.status_code != 200:
                return
            body = token_response.json()
            token = body.get("token") or body.get("access_token")
            with self._lock:
                self._tokens[repo] = token
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), {k: v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}


class ImagePusher:
    """Pushes images over one HTTP client; `concurrency` threads PUT tags in parallel."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        concurrency: int = 8,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self._client = httpx.Client(
            auth=_ChallengeAuth(username, password),
            verify=client_verify(ca_file),
            timeout=30.0,
            limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ImagePusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blobs and manifests ---------------------------------------------------------------------

    def upload_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        url = f"{self.base_url}/v2/{repository}/blobs/{digest}"
        if self._client.head(url).status_code == 200:
            return digest
        started = self._client.post(f"{self.base_url}/v2/{repository}/blobs/uploads/")
        if started.status_code != 202:
            raise PushError(f"{repository}: starting a blob upload answered {started.status_code}")
        location = httpx.URL(self.base_url).join(started.headers["Location"])
        finished = self._client.put(
            location.copy_merge_params({"digest": digest}),
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if finished.status_code != 201:
            raise PushError(f"{repository}: uploading blob {digest} answered {finished.status_code}")
        return digest

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        response = self._client.put(
            f"{self.base_url}/v2/{repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": media_type},
        )
        if response.status_code != 201:
            raise PushError(
                f"{repository}:{reference}: manifest PUT answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        digest = digest_of(body)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise PushError(f"{repository}:{reference}: registry computed {returned}, expected {digest}")
        return digest

    def build_manifest(
        self, repository: str, *, kind: ManifestKind = "docker", labels: dict[str, str] | None = None
    ) -> tuple[bytes, str, str]:
        """Upload blobs (and an index's child manifest); return (body, media type, config digest)."""
        config = _config_blob(labels if labels is not None else aim_labels(repository))
        layer = _layer()
        config_digest = self.upload_blob(repository, config)
        layer_digest = self.upload_blob(repository, layer)
        oci = kind in ("oci", "oci-index")
        image: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [
                {"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "size": len(layer), "digest": layer_digest}
            ],
        }
        body = json.dumps(image, indent=3).encode()
        if kind in ("docker", "oci"):
            return body, image["mediaType"], config_digest
        child_digest = self.put_manifest(repository, digest_of(body), body, image["mediaType"])
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX if oci else DOCKER_LIST,
            "manifests": [
                {
                    "mediaType": image["mediaType"],
                    "size": len(body),
                    "digest": child_digest,
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
        return json.dumps(index, indent=3).encode(), str(index["mediaType"]), config_digest

    def push_image(
        self,
        repository: str,
        tags: str | Sequence[str],
        *,
        kind: ManifestKind = "docker",
        labels: dict[str, str] | None = None,
    ) -> PushedImage:
        """Push one image under every tag in `tags` (concurrently); return its manifest digest."""
        tag_list = (tags,) if isinstance(tags, str) else tuple(tags)
        body, media_type, config_digest = self.build_manifest(repository, kind=kind, labels=labels)
        digests = self._put_many(repository, tag_list, body, media_type)
        return PushedImage(
            repository, tag_list, digests.pop() if digests else digest_of(body), media_type, config_digest
        )

    def push_images(
        self, images: Iterable[tuple[str, Sequence[str]]], *, kind: ManifestKind = "docker"
    ) -> list[PushedImage]:
        """Push several repositories: `[(repository, tags), ...]`."""
        return [self.push_image(repository, tags, kind=kind) for repository, tags in images]

    def _put_many(self, repository: str, tags: Sequence[str], body: bytes, media_type: str) -> set[str]:
        if len(tags) <= 1 or self.concurrency <= 1:
            return {self.put_manifest(repository, tag, body, media_type) for tag in tags}
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return set(pool.map(lambda tag: self.put_manifest(repository, tag, body, media_type), tags))


def numbered_tags(count: int, *, start_major: int = 0) -> list[str]:
    """`count` distinct SemVer tags (`0.0.0`, `0.0.1`, ... `0.9.99`, ...), cheap to generate."""
    return [f"{start_major + i // 1000}.{(i // 100) % 10}.{i % 100}" for i in range(count)]
