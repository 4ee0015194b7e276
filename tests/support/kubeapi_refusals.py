"""Telling the emulated API to refuse the create of chosen objects, as an admission webhook would.

A reaction on the handler answers a POST for a named object with a Kubernetes Status (403 from a
validating webhook, 422, 500 ...) before the store sees it; every other request is served as usual.

    refuse_creates(api, "aimclustermodels", {"m2"}, code=403, reason="Forbidden",
                   message='admission webhook "policy.example.com" denied the request: no')
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import kmock
from kmock._internal.filtering import FnCriteria

from tests.support.kubeapi import KubeAPI


def refuse_creates(api: KubeAPI, plural: str, names: Collection[str], *, code: int, reason: str,
                   message: str, times: int | None = None) -> None:
    """Creates of `plural` objects named in `names` get this error, `times` times (None: always)."""
    wanted = set(names)

    def matches(request: kmock.Request) -> bool:
        res = request.resource
        if request.method.value.upper() != "POST" or res is None or res.plural != plural:
            return False
        try:
            body: Any = json.loads(request.body or b"{}")
        except ValueError:
            return False
        return isinstance(body, dict) and (body.get("metadata") or {}).get("name") in wanted

    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": message, "reason": reason, "code": code}
    reaction = api.handler[FnCriteria(matches)]
    if times is not None:
        reaction = reaction[:times]
    reaction << code << status
