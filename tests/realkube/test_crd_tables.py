"""The CRD accept/reject tables (tests/crds/samples.py) on the real kube-apiserver.

Its verdict (a server-side dry-run create: schema, defaulting and CEL, nothing stored; with strict
field validation, kubectl's default, so that an unknown field is refused rather than pruned) must
agree with `parse_source` — what `aimsource check` and the operator use — and with the schema harness that the
offline CRD tests rely on; for accepted samples, the defaults it applies must be the harness's.
"""

from __future__ import annotations

from typing import Any

import pytest

from aimsource.domain.spec.source import InvalidSpecError, parse_source
from tests.crds import seed_examples
from tests.crds.samples import INVALID, VALID, source
from tests.support.crd_schema import admit
from tests.support.realkube import RealKube
from tests.support.realkube_fixtures import SOURCES

SAMPLES = {**{f"valid-{k}": v for k, v in VALID.items()}, **{f"invalid-{k}": v for k, v in INVALID.items()}}
SEED = seed_examples.all_sources()


def domain_accepts(obj: dict[str, Any]) -> bool:
    try:
        parse_source(obj)
    except InvalidSpecError:
        return False
    return True


def server_admits(real_kube: RealKube, obj: dict[str, Any]) -> tuple[int, Any]:
    return real_kube.request("POST", f"{SOURCES}?dryRun=All&fieldValidation=Strict", obj)


@pytest.mark.parametrize("spec", SAMPLES.values(), ids=SAMPLES.keys())
def test_real_server_verdict_equals_parse_source_and_the_harness(real_kube_crds: RealKube, spec: Any) -> None:
    obj = source(spec)
    status, answer = server_admits(real_kube_crds, obj)
    # accepted, refused as invalid, or (strict field validation) refused for an unknown field
    assert status == 201 or status == 422 or (status == 400 and "unknown field" in answer["message"]), answer
    server_accepts = status == 201
    harness_errors = admit(obj)[1]
    assert server_accepts == (harness_errors == []), (answer, harness_errors)
    assert server_accepts == domain_accepts(obj), answer


@pytest.mark.parametrize(
    "obj",
    [*[source(spec) for spec in VALID.values()], *SEED.values()],
    ids=[*VALID.keys(), *SEED.keys()],
)
def test_real_server_defaults_equal_the_harness(real_kube_crds: RealKube, obj: dict[str, Any]) -> None:
    status, stored = server_admits(real_kube_crds, obj)
    assert status == 201, stored
    assert stored["spec"] == admit(obj)[0]["spec"]
    assert parse_source(obj).spec == parse_source(stored).spec
