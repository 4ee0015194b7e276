"""Settings a person may change, each declared once: on its settings field, as metadata.

- `declared` — `option(...)`: a field's flag, variable, help and value syntax; `declared_options`
  walks a settings class (nested settings included) in declaration order.
- `values` — one parser per kind of value (durations, ports, rates, names...), raising
  `InvalidValueError` with a reason that quotes the text.

From these declarations `aimsource run` builds its parser and reads its `AIMSOURCE_*` variables,
`--help` shows them, and `scripts/settings-tables` writes the flag table of docs/cli.md and the
operator rows of the chart's values (docs/helm.md, charts/aimsource/values.yaml). Pure: uses only
`domain.durations` and `domain.kube_names`.
"""
