"""What a discovery keeps: the matching names, valid ones only, the first by name up to the cap,
and a count of everything seen (`registry/discovery/listing.py`)."""

from __future__ import annotations

from aimsource.domain.patterns import parse_pattern
from aimsource.registry.discovery.listing import MatchCollector


def test_only_matching_valid_names_are_kept_and_everything_is_counted() -> None:
    found = MatchCollector(parse_pattern("registry.example.com/team/*"), cap=10)
    found.add(["team/a", "other/b", "team/UPPER", "team/a", "team/../x", "team/" + "x" * 300])
    found.add(["team/c/d"])
    listing = found.listing(truncated=False, endpoint="here")
    assert listing.repositories == ("team/a", "team/c/d")
    assert listing.seen == 7
    assert listing.truncated is False


def test_past_the_cap_the_first_names_by_name_are_kept_whatever_the_page_order() -> None:
    found = MatchCollector(parse_pattern("registry.example.com/team/*"), cap=3)
    found.add([f"team/{n:02d}" for n in range(20, 0, -1)])  # pages in reverse order
    listing = found.listing(truncated=False, endpoint="here")
    assert listing.repositories == ("team/01", "team/02", "team/03")
    assert (listing.seen, listing.truncated) == (20, True)
