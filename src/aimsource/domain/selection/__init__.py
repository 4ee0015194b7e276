"""Selection: which listed tags each selector keeps, and the plan of which models a sync creates.

- `selectors` — what each `images` entry or filter asks for, and which tags it keeps.
- `decisions` — what a selector decided about each listed tag, kept compactly.
- `planning` — the plan of one sync: create now, exists already, held back by `maxModels`, conflicts.
- `prefixed_tags`, `compact_sequences` — the compact forms a big sync keeps (internals of the two above).
- `listings` — a listing served from cache because the registry could not be read just now.
- `moved` — pinned tags whose manifest changed since their model was made.

Uses `domain.spec` and `domain.versions`; never status (status reads selection, not the reverse).
"""
