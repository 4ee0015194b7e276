"""The domain's own exceptions.

Every error the pure core raises derives from `DomainError`, so callers can tell "the user's input
is wrong" (won't get better by retrying) from everything else.
"""

from __future__ import annotations


class DomainError(ValueError):
    """Base of every error the domain raises; the message names what is wrong."""


class InvalidReferenceError(DomainError):
    """An image reference that cannot be used; the message names the reference."""


class InvalidConstraintError(DomainError):
    """A version constraint that does not parse; the message names the constraint string."""
