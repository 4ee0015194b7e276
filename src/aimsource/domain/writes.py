"""Why one model's create did not happen, as a model store reports it to the sync.

A store (the cluster, a directory) raises one of these for a single model; the sync records it for
that model and goes on with the others (product.md: "a refused write costs one model, not the
sync"). Anything else a store raises ends the sync, as a failure of the whole store.
"""

from __future__ import annotations


class ModelNotCreated(Exception):
    """One model was not created; the message says why and is safe to show (no secrets)."""

    reason = "NotCreated"


class NameTakenError(ModelNotCreated):
    """The model's name belongs to a model of another image (a 6-hex hash collision, or a model
    made by hand): the image gets no model, and the one holding the name is left alone."""

    reason = "NameConflict"

    def __init__(self, name: str, existing_image: str) -> None:
        super().__init__(f'name "{name}" is already used by a model of {existing_image}')
        self.name = name
        self.existing_image = existing_image


class CreateRefusedError(ModelNotCreated):
    """The store refused this model: an admission webhook's 403, a 422, a 5xx after retries.

    `reason` is the refusing side's own word (the API Status reason: Forbidden, Invalid,
    InternalError, ...); `transient` says whether trying again soon may succeed (server errors).
    """

    def __init__(self, reason: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.transient = transient
