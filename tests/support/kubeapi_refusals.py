"""Telling the emulated API to refuse the create of chosen objects, as an admission webhook would.

A reaction on the handler answers a POST for a named object with a Kubernetes Status (403 from a
validating webhook, 422, 500 ...) before the store sees it; every other request is served as usual.

    refusal = refuse_creates(api, "aimclustermodels", {"m2"}, code=403, reason="Forbidden",
                             message='admission webhook "policy.example.com" denied the request: no')
    ...
    assert refusal.hits == 1
    refusal.lift()  # the webhook's policy changed: creates of m2 pass from now on
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from typing import Any

import kmock
from kmock._internal.filtering import FnCriteria

from tests.support.kubeapi import KubeAPI


class Refusal:
    """The names still refused, and how many creates were refused so far (thread-safe: the
    emulator answers in its own thread)."""

    def __init__(self, plural: str, names: Collection[str]) -> None:
        self.plural = plural
        self._names = set(names)
        self._hits = 0
        self._lock = threading.Lock()

    @property
    def hits(self) -> int:
        with self._lock:
            return self._hits

    def lift(self) -> None:
        with self._lock:
            self._names.clear()

    def matches(self, request: kmock.Request) -> bool:
        res = request.resource
        if request.method.value.upper() != "POST" or res is None or res.plural != self.plural:
            return False
        try:
            body: Any = json.loads(request.body or b"{}")
        except ValueError:
            return False
        name = (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
        with self._lock:
            if name not in self._names:
                return False
            self._hits += 1
            return True


def refuse_creates(
    api: KubeAPI,
    plural: str,
    names: Collection[str],
    *,
    code: int,
    reason: str,
    message: str,
    times: int | None = None,
) -> Refusal:
    """Creates of `plural` objects named in `names` get this error, `times` times (None: until
    `lift()`)."""
    refusal = Refusal(plural, names)
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    reaction = api.handler[FnCriteria(refusal.matches)]
    if times is not None:
        reaction = reaction[:times]
    reaction << code << status
    return refusal
