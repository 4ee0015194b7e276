"""The facts of the two resources, written once: names, labels, annotations and status words.

The CRDs in src/aimsource/crds/ are the source of truth for the API; the domain reads no files, so
the names are repeated here and tests/domain/test_resources.py checks that both agree. Everything
is a plain `str` (not an enum): these values are written into objects that are dumped as JSON and
YAML, and must come out as the bare words. Labels and annotation keys are the reference
implementation's: users and AIM's own controllers select on them.

The shape of the status this project writes is typed by `SourceStatus` and `SelectorStatus`; a
status read back from the API is untrusted and stays a `Mapping[str, Any]` until checked.
"""

# No `from __future__ import annotations` here: the TypedDicts' annotations must be evaluated, or
# Python 3.11 cannot tell NotRequired keys from required ones at run time (`__optional_keys__`).
from typing import Final, NotRequired, TypedDict

# --- the API ---------------------------------------------------------------------------------------
GROUP: Final = "aim.eai.amd.com"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

SOURCE_KIND: Final = "AIMClusterModelSource"
MODEL_KIND: Final = "AIMClusterModel"
SOURCE_PLURAL: Final = "aimclustermodelsources"
MODEL_PLURAL: Final = "aimclustermodels"
SOURCE_CRD: Final = f"{SOURCE_PLURAL}.{GROUP}"
MODEL_CRD: Final = f"{MODEL_PLURAL}.{GROUP}"
SOURCES_PATH: Final = f"/apis/{API_VERSION}/{SOURCE_PLURAL}"
"""The collection of sources (cluster-scoped), as the REST API serves it."""
MODELS_PATH: Final = f"/apis/{API_VERSION}/{MODEL_PLURAL}"
"""The collection of models (cluster-scoped), as the REST API serves it."""

# --- labels and annotations on a model ---------------------------------------------------------------
SOURCE_LABEL: Final = f"{GROUP}/model-source"
"""The name of the source that created the model; so a source's name must be a valid label value."""
AMD_SOURCE_LABEL: Final = f"{GROUP}/cluster-model-source.name"
"""The same source name under the key AMD's current operator writes, so that its tooling (and
`kubectl get -l`) finds the models whichever operator made them."""
ORIGIN_LABEL: Final = f"{GROUP}/origin"
ORIGIN_AUTO_GENERATED: Final = "auto-generated"
MANAGED_BY_LABEL: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "aimsource"

REGISTRY_ANNOTATION: Final = f"{GROUP}/source-registry"
REPOSITORY_ANNOTATION: Final = f"{GROUP}/source-repository"
TAG_ANNOTATION: Final = f"{GROUP}/source-tag"
DIGEST_ANNOTATION: Final = f"{GROUP}/source-digest"
"""The manifest digest the tag pointed at when the model was created (see `domain.selection.moved`)."""

# --- annotations on a source or a cluster ------------------------------------------------------------
REQUEST_ANNOTATION: Final = f"{GROUP}/sync-requested-at"
"""On a source: a time after its last sync asks for a sync now (`aimsource request-sync`)."""
ALLOWED_SOURCES_ANNOTATION: Final = f"{GROUP}/allowed-sources"
"""On a pull secret: the comma-separated names of the sources that may use it (absent: any source)."""
PAUSED_ANNOTATION: Final = f"{GROUP}/reconciliation-paused"
"""On a source: the exact string PAUSED_VALUE stops its syncs until removed (AMD's current operator
honours the same annotation; `domain.status.paused`)."""
PAUSED_VALUE: Final = "true"

# --- the source's status value (`status.status`) ----------------------------------------------------
PENDING: Final = "Pending"
PROGRESSING: Final = "Progressing"
READY: Final = "Ready"
DEGRADED: Final = "Degraded"
FAILED: Final = "Failed"
SOURCE_STATUSES: Final = (PENDING, PROGRESSING, READY, DEGRADED, FAILED)
"""Every value this project writes, in the order a source goes through them."""
TRANSIENT_STATUSES: Final = frozenset({PENDING, PROGRESSING})
"""Values that say a sync is still to come or under way, not how the last one ended."""
FOREIGN_STATUSES: Final = ("Running", "Starting", "NotAvailable")
"""Values only AIM's own source controller writes; the CRD admits them so that its writes land and
aimsource can see it and stand down."""

# --- conditions ---------------------------------------------------------------------------------------
READY_CONDITION: Final = "Ready"
DEGRADED_CONDITION: Final = "Degraded"
LIMIT_CONDITION: Final = "MaxModelsLimitReached"
PROGRESSING_CONDITION: Final = "Progressing"
"""Only while a long sync runs: what it has done so far (`domain.status.progress`)."""
PAUSED_CONDITION: Final = "Paused"
"""Only while the source is paused (`domain.status.paused`)."""
TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"
CONDITION_STATUSES: Final = (TRUE, FALSE, UNKNOWN)

# Reasons of the Ready and Degraded conditions (also read by the operator's events).
INVALID_SPEC_REASON: Final = "InvalidSpec"
ALL_SELECTORS_FAILED_REASON: Final = "AllSelectorsFailed"
SOME_SELECTORS_FAILED_REASON: Final = "SomeSelectorsFailed"
ALL_SELECTORS_SUCCEEDED_REASON: Final = "AllSelectorsSucceeded"
NAME_CONFLICT_REASON: Final = "ModelNameConflict"
CREATE_REFUSED_REASON: Final = "ModelCreateRefused"
STALE_LISTING_REASON: Final = "StaleListing"
# Reasons of the MaxModelsLimitReached condition.
LIMIT_REACHED_REASON: Final = "LimitReached"
WITHIN_LIMIT_REASON: Final = "WithinLimit"
# Reason of the Paused condition.
PAUSED_REASON: Final = "ReconciliationPaused"


# --- the status this project writes -------------------------------------------------------------------
class Condition(TypedDict):
    type: str
    status: str
    """TRUE or FALSE (UNKNOWN is never written)."""
    reason: str
    message: str
    observedGeneration: int
    lastTransitionTime: NotRequired[str]
    """Absent only in a preview, which writes no new times."""


class ErrorEntry(TypedDict):
    reason: str
    message: str


class ConflictEntry(TypedDict):
    model: str
    image: str
    existingImage: str


class RefusedEntry(TypedDict):
    model: str
    image: str
    reason: str
    message: str


class MovedEntry(TypedDict):
    model: str
    image: str
    recordedDigest: str
    currentDigest: str


class RepositoriesEntry(TypedDict):
    """What a wildcard filter's discovery found (`status.selectors[].repositories`)."""

    seen: int
    matched: int
    excluded: int


class SelectorStatus(TypedDict):
    """One entry of `status.selectors`: what one image or filter found in the last sync."""

    reference: str
    tagsListed: int
    matched: int
    created: int
    skipped: int
    truncated: bool
    repositories: NotRequired[RepositoriesEntry]
    message: NotRequired[str]
    notFound: NotRequired[list[str]]
    endpoint: NotRequired[str]
    stale: NotRequired[bool]
    listedAt: NotRequired[str]
    conflicts: NotRequired[list[ConflictEntry]]
    refused: NotRequired[list[RefusedEntry]]
    moved: NotRequired[list[MovedEntry]]
    error: NotRequired[ErrorEntry]


class SourceStatus(TypedDict):
    """A source's `.status` as written; `initial_status()` has only the first four keys."""

    status: str
    discoveredModels: int
    availableModels: int
    modelsLimitReached: bool
    observedGeneration: NotRequired[int]
    lastSyncTime: NotRequired[str]
    conditions: NotRequired[list[Condition]]
    selectors: NotRequired[list[SelectorStatus]]
