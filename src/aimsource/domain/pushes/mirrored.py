"""Pushes received from a mirror count as pushes to the registry it mirrors.

A company registry (Harbor, distribution) that receives the mirrored images of `docker.io` sends
push events naming itself (`mirror.corp.example:5000/library/nginx:1.27`). When that host is a
mirror in the registries file, the push is read as `docker.io/library/nginx:1.27`, so it drives the
syncs of sources naming `docker.io`. Other pushes are kept as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from aimsource.domain.pushes.payloads import MalformedPayload, Push, make_push
from aimsource.domain.registries.entries import Registries


def as_canonical(pushes: Sequence[Push], registries: Registries) -> list[Push]:
    """`pushes` with every mirror host replaced by the registry it mirrors (names normalised
    for that registry: a one-component Docker Hub repository gains `library/`)."""
    if not registries:
        return list(pushes)
    canonical: list[Push] = []
    for push in pushes:
        registry = registries.registry_of_mirror(push.registry)
        if registry is None:
            canonical.append(push)
            continue
        try:
            canonical.append(make_push(registry, push.repository, push.tag, push.digest))
        except MalformedPayload:
            canonical.append(push)  # not a name the registry could hold: nothing of it will match
    return canonical
