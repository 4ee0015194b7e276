"""Tests against real docker-registry processes."""
