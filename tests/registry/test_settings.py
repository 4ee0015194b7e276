"""The registry client's settings: `registry/settings.py`."""

from __future__ import annotations

import pytest

from aimsource.registry.settings import RegistrySettings


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"connect_timeout": 0}, id="zero-timeout"),
        pytest.param({"max_attempts": 0}, id="no-attempts"),
        pytest.param({"max_concurrency_per_host": 0}, id="no-concurrency"),
        pytest.param({"requests_per_second": -1}, id="negative-rate"),
        pytest.param({"max_tags_bytes": 0}, id="no-body"),
    ],
)
def test_settings_refuse_values_that_would_hang_or_hammer(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="registry setting"):
        RegistrySettings(**bad)  # type: ignore[arg-type]
