"""The CLI's registry mode is tested against the real registries of tests/support."""

from tests.support.registry_fixtures import *  # noqa: F403
