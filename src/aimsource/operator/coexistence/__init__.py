"""Coexistence with other controllers that write a source's status (AMD's operator, say).

- `field_managers` — who else writes the status: a pure reading of `metadata.managedFields`.
- `contests` — when aimsource stands down, and what it says once.

Uses scheduling's source records and the operator's event values (`operator.reporting`).
"""
