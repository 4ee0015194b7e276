"""Model names: byte-for-byte the reference implementation's, so both operators agree on them.

A user who moves from AMD's Go operator to this one (or runs both) must see the same
`AIMClusterModel` names, otherwise every image would get a second model. The Go code is
`generateModelName` in aim-engine's `internal/aimclustermodelsource/builder.go`, which calls
`utils.GenerateDerivedName([repository, tag], WithHashSource(registry, repository, tag),
WithHashLength(6))`. Its steps, reproduced here:

1. each part: lower-case, every character outside `[a-z0-9-]` becomes "-" (one per character, no
   collapsing), "-" trimmed at both ends, cut to 63 characters and trailing "-" trimmed again
   (`MakeRFC1123Compliant`); an empty part becomes "part";
2. hash: sha256 over the JSON encodings (Go's `json.Marshal`) of registry, repository and tag
   joined by "|", first 6 hex characters;
3. while `repo-tag-hash` is longer than 63: cut the last character of the longest part — the
   repository when both are equally long (Go keeps the first index on ties) — then trim trailing
   "-" of that part; stop if the longest part is down to one character.

The inputs are the normalised `ImageRef` fields (registry `docker.io`, repository with `library/`
for official Docker Hub images). Check: docker.io, amdenterpriseai/aim-qwen-qwen3-32b, 0.8.5 ->
amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726 (product.md).
"""

from __future__ import annotations

import hashlib
import json
import re

from aimsource.domain.references import ImageRef

MAX_NAME_LENGTH = 63
HASH_LENGTH = 6
_INVALID = re.compile(r"[^a-z0-9-]")
_PLAIN = re.compile(r"[A-Za-z0-9._:/@+-]*")


def model_name(ref: ImageRef) -> str:
    """The `metadata.name` of the model for a pinned image reference."""
    if ref.tag is None:
        raise ValueError(f"model_name needs a pinned image reference (with a tag), got {ref}")
    parts = [_sanitize(ref.repository), _sanitize(ref.tag)]
    suffix = name_hash(ref.registry, ref.repository, ref.tag)

    def length() -> int:
        return sum(len(p) + 1 for p in parts) + len(suffix)

    while length() > MAX_NAME_LENGTH:
        longest = 0 if len(parts[0]) >= len(parts[1]) else 1
        if len(parts[longest]) <= 1:  # cannot happen with two parts and a 6-char hash; Go's guard
            break
        parts[longest] = parts[longest][:-1].rstrip("-")
    return "-".join([*parts, suffix])


def name_hash(*inputs: str) -> str:
    """First 6 hex characters of sha256 over the Go-JSON-encoded inputs joined by "|"."""
    combined = "|".join(_go_json_string(value) for value in inputs)
    return hashlib.sha256(combined.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def _sanitize(part: str) -> str:
    """Go's `MakeRFC1123Compliant`, then "part" for an empty result (`GenerateDerivedName`)."""
    text = _INVALID.sub("-", part.lower()).strip("-")
    text = text[:MAX_NAME_LENGTH].rstrip("-")
    return text or "part"


def _go_json_string(value: str) -> str:
    """A string as Go's `json.Marshal` writes it.

    Go keeps non-ASCII characters as UTF-8 and escapes "<", ">", "&", U+2028 and U+2029 as
    `\\u00XX`; Python's `json.dumps` escapes non-ASCII by default and none of those. Valid
    references are ASCII without those characters, so this only matters for odd input — but then
    it still gives the Go operator's hash.
    """
    if _PLAIN.fullmatch(value):
        return f'"{value}"'  # the common case, and a hot path: no character needs escaping
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text
