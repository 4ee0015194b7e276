"""Reading managedFields: who else writes a source's status, and for how long that counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from aimsource.operator.coexistence.field_managers import Competitor, competitor, window_for

NOW = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC)
WINDOW = 600.0


def at(seconds_ago: float) -> str:
    return (NOW - datetime.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(
    manager: str,
    *,
    ago: float = 5,
    subresource: str | None = "status",
    operation: str = "Update",
    fields: Any = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": "aim.eai.amd.com/v1alpha1",
        "time": at(ago),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields
        if fields is not None
        else ({"f:status": {"f:status": {}}} if subresource == "status" else {"f:spec": {}}),
    }
    if subresource is not None:
        found["subresource"] = subresource
    return found


KUBECTL_CREATE = entry("kubectl-create", ago=1, subresource=None)
KUBECTL_APPLY = entry("kubectl", ago=1, subresource=None, operation="Apply")
ARGOCD = entry("argocd-controller", ago=1, subresource=None, operation="Apply")
OURS = entry("aimsource", ago=1)
AIM = entry("aim-cluster-model-source-controller", ago=30)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(None, None, id="no managedFields at all (the emulator, an old server)"),
        pytest.param([], None, id="empty"),
        pytest.param([KUBECTL_CREATE, OURS], None, id="created by kubectl, status by us"),
        pytest.param([KUBECTL_APPLY, ARGOCD, OURS], None, id="GitOps tools write spec only"),
        pytest.param([OURS], None, id="our own status writes never count"),
        pytest.param(
            [KUBECTL_CREATE, AIM],
            ("aim-cluster-model-source-controller", 30),
            id="AIM's controller wrote the status 30 s ago",
        ),
        pytest.param(
            [OURS, AIM], ("aim-cluster-model-source-controller", 30), id="both write: the other one counts"
        ),
        pytest.param(
            [entry("aim-operator", ago=WINDOW - 1)], ("aim-operator", WINDOW - 1), id="just inside the window"
        ),
        pytest.param([entry("aim-operator", ago=WINDOW + 1)], None, id="just outside the window"),
        pytest.param(
            [entry("aim-operator", ago=-120)],
            ("aim-operator", -120),
            id="a time ahead of ours (clock skew) is recent",
        ),
        pytest.param(
            [entry("a", ago=300), entry("b", ago=10), entry("c", ago=100)],
            ("b", 10),
            id="the most recent writer is named",
        ),
        pytest.param(
            [entry("aim-operator", operation="Apply")],
            ("aim-operator", 5),
            id="server-side apply to status counts",
        ),
        pytest.param([entry("aim-operator", subresource="scale")], None, id="another subresource"),
        pytest.param([entry("aim-operator", operation="Delete")], None, id="not a write operation"),
        pytest.param([entry("", ago=1)], None, id="nameless manager"),
        pytest.param([entry("x" * 129, ago=1)], None, id="a name longer than the API allows"),
        pytest.param([{**entry("aim-operator"), "time": "yesterday"}], None, id="unreadable time"),
        pytest.param([{**entry("aim-operator"), "time": None}], None, id="no time"),
        pytest.param(
            ["garbage", 7, None, AIM],
            ("aim-cluster-model-source-controller", 30),
            id="malformed entries are skipped, good ones still read",
        ),
        pytest.param({"manager": "aim-operator"}, None, id="not a list"),
        pytest.param(
            [{**entry("aim-operator"), "time": "2026-11-29T11:59:50"}],
            ("aim-operator", 10),
            id="a time without zone is UTC",
        ),
    ],
)
def test_competitor(fields: Any, expected: tuple[str, float] | None) -> None:
    found = competitor(fields, now=NOW, ours="aimsource", window=WINDOW)
    if expected is None:
        assert found is None
    else:
        manager, ago = expected
        assert found is not None
        assert (found.manager, found.last_write) == (manager, NOW - datetime.timedelta(seconds=ago))


def test_the_operation_is_kept() -> None:
    found = competitor([entry("aim-operator", operation="Apply")], now=NOW, ours="aimsource", window=WINDOW)
    assert found == Competitor("aim-operator", NOW - datetime.timedelta(seconds=5), "Apply")


def test_ours_is_whatever_name_we_write_under() -> None:
    fields = [entry("aimsource", ago=1)]
    found = competitor(fields, now=NOW, ours="aimsource-canary", window=WINDOW)
    assert found is not None
    assert found.manager == "aimsource"


def test_the_claim_lapses_one_window_after_the_last_write() -> None:
    found = competitor([AIM], now=NOW, ours="aimsource", window=WINDOW)
    assert found is not None
    assert found.until(WINDOW) == NOW - datetime.timedelta(seconds=30) + datetime.timedelta(seconds=WINDOW)


@pytest.mark.parametrize(
    ("setting", "interval", "expected"),
    [
        (600.0, 3600.0, 7200.0),  # AIM's default 1h interval: two of its syncs
        (600.0, 60.0, 600.0),  # short interval: the setting is the floor
        (10.0, 0.0, 10.0),
        (7200.0, 900.0, 7200.0),
    ],
)
def test_window_is_at_least_two_sync_intervals(setting: float, interval: float, expected: float) -> None:
    assert window_for(setting, interval) == expected
