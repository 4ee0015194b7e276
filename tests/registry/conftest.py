"""Fixtures for tests against a real registry: see tests/support/registry_fixtures.py."""

from tests.support.registry_fixtures import *  # noqa: F403
