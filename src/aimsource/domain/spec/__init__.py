"""The AIMClusterModelSource spec: read from untrusted YAML into values, and checked.

- `source` — the spec as frozen values and `parse_source`, the operator's re-check of the CRD rules.
- `field_checks` — reading untrusted values field by field, collecting every problem on the way.
- `selector_checks` — the deeper checks only `aimsource check` makes (references, constraints).

Uses `domain.versions` and the shared modules of the domain (references, durations, names, facts);
never selection or status.
"""
