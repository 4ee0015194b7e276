"""A push from a configured mirror counts as a push to the registry it mirrors."""

from __future__ import annotations

from aimsource.domain.pushes.mirrored import as_canonical
from aimsource.domain.pushes.payloads import Push, make_push
from aimsource.domain.registries.entries import NO_REGISTRIES
from aimsource.domain.registries.parsing import parse_registries

REGISTRIES = parse_registries(
    "registries:\n  docker.io:\n    mirrors: [https://harbor.corp.example:8443, http://10.0.0.7:5000]\n",
    origin="t",
)


def test_a_push_at_a_mirror_is_a_push_to_docker_io() -> None:
    pushes = [
        make_push("harbor.corp.example:8443", "amdenterpriseai/aim-x", "0.8.5", "sha256:" + "a" * 64),
        make_push("10.0.0.7:5000", "nginx", "1.27"),  # one component: library/ on Docker Hub
        make_push("ghcr.io", "org/model", "1.0.0"),  # not a mirror: as it was
    ]
    assert as_canonical(pushes, REGISTRIES) == [
        Push("docker.io", "amdenterpriseai/aim-x", "0.8.5", "sha256:" + "a" * 64),
        Push("docker.io", "library/nginx", "1.27"),
        Push("ghcr.io", "org/model", "1.0.0"),
    ]


def test_without_a_registries_file_pushes_are_kept() -> None:
    pushes = [make_push("10.0.0.7:5000", "nginx", "1.27")]
    assert as_canonical(pushes, NO_REGISTRIES) == pushes
