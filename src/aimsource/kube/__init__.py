"""kube layer: the only code that calls the Kubernetes API (models, source status, pull secrets,
events, the leader-election Lease).

- `client` — the calls; `transport` — one HTTP exchange with the API server; `config` — kubeconfig
  and in-cluster configuration; `lease` — leader election; `names` — name checks on path segments;
  `errors` — the only exceptions that leave the package; `watching` — watch streams.

Uses the domain only; knows nothing of registries and never imports kopf."""

from aimsource.kube.client import ClientSettings, KubeClient
from aimsource.kube.config import KubeConfig, load_kube_config, operator_namespace
from aimsource.kube.errors import (
    AlreadyExistsError,
    ApiStatusError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    KubeConfigError,
    KubeError,
    NotFoundError,
    SecretError,
    ServerError,
    SourceGoneError,
    TLSVerificationError,
    UnauthorizedError,
    UnreachableError,
)
from aimsource.kube.lease import LeaseElector, LeaseSettings
from aimsource.kube.names import InvalidNameError
from aimsource.kube.watching import WatchEvent, WatchExpired

__all__ = [
    "AlreadyExistsError",
    "ApiStatusError",
    "ClientSettings",
    "ConflictError",
    "ForbiddenError",
    "InvalidError",
    "InvalidNameError",
    "KubeClient",
    "KubeConfig",
    "KubeConfigError",
    "KubeError",
    "LeaseElector",
    "LeaseSettings",
    "NotFoundError",
    "SecretError",
    "ServerError",
    "SourceGoneError",
    "TLSVerificationError",
    "UnauthorizedError",
    "UnreachableError",
    "WatchEvent",
    "WatchExpired",
    "load_kube_config",
    "operator_namespace",
]
