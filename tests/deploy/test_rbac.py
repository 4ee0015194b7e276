"""RBAC in deploy/: everything the operator does is allowed, and nothing else is.

NEEDS lists each API call the operator makes, with the code that makes it. When the code starts
doing something new, this table and deploy/ change together; when deploy/ grants something this
table does not name, the test says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.deploy.manifests import (
    CLUSTER,
    OPERATOR_NAMESPACE,
    Grant,
    of_kind,
    operator_grants,
    rbac_rules,
    render,
)

AIM = "aim.eai.amd.com"
LEASE_NAME = "aimsource-leader"  # kube.lease.LeaseSettings.name, the operator's settings.lease.name
EVENTS_NAMESPACE = "default"  # kube.client.EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS


@dataclass(frozen=True)
class Need:
    scope: str
    group: str
    resource: str
    verbs: tuple[str, ...]
    why: str
    names: tuple[str, ...] = ()  # resourceNames the grant may be limited to; () = every object


NEEDS = {
    "sources-watch": Need(
        CLUSTER,
        AIM,
        "aimclustermodelsources",
        ("list", "watch"),
        "operator.handlers: kopf lists and watches sources cluster-wide (event handlers only)",
    ),
    "sources-get": Need(
        CLUSTER,
        AIM,
        "aimclustermodelsources",
        ("get",),
        "kube.KubeClient.get_source: every sync starts by reading its source (gone or recreated:"
        " dropped); kube.KubeClient.patch_source_status: after a refused guarded write, GET the source",
    ),
    "sources-status": Need(
        CLUSTER,
        AIM,
        "aimclustermodelsources/status",
        ("patch",),
        "kube.KubeClient.patch_source_status: uid-guarded JSON patch on the status subresource",
    ),
    "models-index": Need(
        CLUSTER,
        AIM,
        "aimclustermodels",
        ("list", "watch"),
        "operator.state.model_watch / operator.state.resync: the model index (its watch; paged re-lists)",
    ),
    "models-get": Need(
        CLUSTER,
        AIM,
        "aimclustermodels",
        ("get",),
        "kube.KubeClient.create_model / operator.state.index: read the model a 409 names"
        " (ours? whose image?)",
    ),
    "models-create": Need(
        CLUSTER,
        AIM,
        "aimclustermodels",
        ("create",),
        "kube.KubeClient.create_model",
    ),
    "models-owner-reference": Need(
        CLUSTER,
        AIM,
        "aimclustermodelsources/finalizers",
        ("update",),
        "domain.models.model_body sets blockOwnerDeletion, which OwnerReferencesPermissionEnforcement "
        "allows only to who may update the owner's finalizers",
    ),
    "events": Need(
        EVENTS_NAMESPACE,
        "",
        "events",
        ("create",),
        "kube.KubeClient.post_event: events about cluster-scoped sources go to 'default'",
    ),
    "pull-secrets": Need(
        OPERATOR_NAMESPACE,
        "",
        "secrets",
        ("get",),
        "kube.KubeClient.read_pull_secret: imagePullSecrets, re-read on every sync; "
        "kube.KubeClient.read_secret_key: the webhook token, re-read every minute",
    ),
    "lease-create": Need(
        OPERATOR_NAMESPACE,
        "coordination.k8s.io",
        "leases",
        ("create",),
        "kube.LeaseElector.try_acquire_or_renew: POST the Lease when there is none",
    ),
    "lease-renew": Need(
        OPERATOR_NAMESPACE,
        "coordination.k8s.io",
        "leases",
        ("get", "update"),
        "kube.LeaseElector: GET the Lease, PUT to take, renew and release it",
        names=(LEASE_NAME,),
    ),
}

# Granted on purpose although no call strictly needs it; each with the reason. Not needed, and so
# not granted: `patch`/`update` of sources (kopf runs event handlers and indexes only, so it never
# patches objects or adds finalizers), CRDs (kopf's resource scanning is disabled), namespaces
# (cluster-wide watching), kopf peering resources (standalone: our Lease elects the leader).
TOLERATED = {
    Grant(CLUSTER, AIM, "aimclustermodelsources/status", "get"): "read-back of status; harmless",
}

WILDCARD_FIELDS = ("apiGroups", "resources", "verbs", "resourceNames")


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def grants(objects: list[dict[str, Any]]) -> set[Grant]:
    return operator_grants(objects)


def test_lease_name_is_the_one_the_operator_uses() -> None:
    from aimsource.kube.lease import LeaseSettings
    from aimsource.operator.settings import OperatorSettings

    assert LeaseSettings().name == OperatorSettings().lease.name == LEASE_NAME


def test_events_namespace_is_the_one_the_client_posts_to() -> None:
    from aimsource.kube.client import EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS

    assert EVENTS_NAMESPACE == EVENTS_NAMESPACE_FOR_CLUSTER_OBJECTS


def _needed_grants() -> set[Grant]:
    return {
        Grant(need.scope, need.group, need.resource, verb, need.names)
        for need in NEEDS.values()
        for verb in need.verbs
    }


@pytest.mark.parametrize("need", NEEDS.values(), ids=NEEDS.keys())
def test_operator_may_do_what_its_code_does(need: Need, grants: set[Grant]) -> None:
    def covered(verb: str) -> bool:
        # A grant for every object covers a need limited to names; a grant limited to names
        # covers only a need limited to the same or fewer names.
        return any(
            (g.scope, g.group, g.resource, g.verb) == (need.scope, need.group, need.resource, verb)
            and (not g.names or (need.names and set(need.names) <= set(g.names)))
            for g in grants
        )

    missing = [
        Grant(need.scope, need.group, need.resource, verb, need.names)
        for verb in need.verbs
        if not covered(verb)
    ]
    assert not missing, f"{need.why} needs: " + "; ".join(map(str, missing))


def test_operator_may_do_nothing_else(grants: set[Grant]) -> None:
    extra = sorted(grants - _needed_grants() - TOLERATED.keys())
    assert not extra, "deploy/ grants more than the operator uses: " + "; ".join(map(str, extra))


@pytest.mark.parametrize("field", WILDCARD_FIELDS)
def test_no_rule_uses_a_wildcard(field: str, objects: list[dict[str, Any]]) -> None:
    offenders = [owner for owner, rule in rbac_rules(objects) if "*" in (rule.get(field) or ())]
    assert not offenders, f"{field} contains '*' in {offenders}"


def test_no_rule_grants_non_resource_urls(objects: list[dict[str, Any]]) -> None:
    offenders = [owner for owner, rule in rbac_rules(objects) if rule.get("nonResourceURLs")]
    assert not offenders, f"nonResourceURLs granted in {offenders}"


def test_secrets_are_never_granted_cluster_wide(objects: list[dict[str, Any]]) -> None:
    offenders = [
        owner
        for owner, rule in rbac_rules(objects)
        if owner.startswith("ClusterRole/") and "secrets" in (rule.get("resources") or ())
    ]
    assert not offenders, f"a ClusterRole names secrets: {offenders}"


def test_secrets_are_granted_only_in_the_operator_namespace(grants: set[Grant]) -> None:
    scopes = {grant.scope for grant in grants if grant.resource == "secrets"}
    assert scopes == {OPERATOR_NAMESPACE}


def test_models_are_never_updated_or_deleted(grants: set[Grant]) -> None:
    forbidden = {"update", "patch", "delete", "deletecollection"}
    offending = sorted(g for g in grants if g.resource == "aimclustermodels" and g.verb in forbidden)
    assert not offending, "models are append-only; granted: " + "; ".join(map(str, offending))


def test_source_spec_is_never_written(grants: set[Grant]) -> None:
    writes = {"create", "update", "delete", "deletecollection"}
    offending = sorted(g for g in grants if g.resource == "aimclustermodelsources" and g.verb in writes)
    assert not offending, "the operator does not write sources: " + "; ".join(map(str, offending))


def test_every_binding_targets_the_operator_service_account(objects: list[dict[str, Any]]) -> None:
    bindings = of_kind(objects, "ClusterRoleBinding") + of_kind(objects, "RoleBinding")
    assert bindings, "deploy/ contains no bindings"
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "aimsource", "namespace": OPERATOR_NAMESPACE}
        ], binding["metadata"]["name"]


def test_kopf_is_configured_to_need_nothing_beyond_these_grants() -> None:
    # The reasons in TOLERATED's comment, checked: if one of these changes, RBAC must change too.
    from aimsource.operator.handlers import build_registry, kopf_settings

    settings = kopf_settings()
    assert settings.scanning.disabled, "kopf would watch CRDs: customresourcedefinitions list/watch"
    assert not settings.posting.enabled, "kopf would post its own events into aim-system"
    assert settings.peering.standalone, "kopf would read and patch KopfPeering objects"
    registry = build_registry(None, None)  # type: ignore[arg-type]  # the handlers are not called
    changing = registry._changing.get_all_handlers()
    spawning = registry._spawning.get_all_handlers()
    assert not changing, "change handlers make kopf patch sources (diff-base, progress, finalizers)"
    assert not spawning, "daemons and timers make kopf add finalizers to sources"
