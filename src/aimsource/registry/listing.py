"""A repository's tag listing, page by page: the registry's order, each tag once, within the caps.

Pages are followed exactly as the registry links them (the caller's `follow` checks host and path,
`answers.next_link`); a page refused for its size is asked again with 100 (Quay, ECR); the listing
stops at `max_tags` or `max_pages` as truncated, and when a registry links back to a page already
read. Each page is dropped as soon as its tags are kept, so a listing costs its tags, not its pages.

A caller that holds a smaller share of a memory budget than `max_tags` (the sync's listings,
`sync.listing_budget`) sets it with `listing_at_most` around the call: the listing then stops there,
truncated, and the caller may list again with a larger share. A context variable rather than a
parameter, as for the fair share: the client's signatures, and the listers wrapped around it, stay
as they are.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from multidict import CIMultiDictProxy
from yarl import URL

from aimsource.registry.answers import TagListing, check_reply, parse_tags
from aimsource.registry.auth.flow import AuthScope
from aimsource.registry.http.messages import Reply
from aimsource.registry.pages.sizes import PageSizes, refuses_page_size, with_smaller_page
from aimsource.registry.settings import RegistrySettings

logger = logging.getLogger("aimsource.registry")

_at_most: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "aimsource_listing_at_most", default=None
)


@contextmanager
def listing_at_most(tags: int) -> Iterator[None]:
    """Listings made inside (and by tasks started inside) keep at most `tags` tags."""
    token = _at_most.set(max(1, tags))
    try:
        yield
    finally:
        _at_most.reset(token)


Fetch = Callable[[URL], Awaitable[Reply]]
Follow = Callable[[URL, CIMultiDictProxy[str]], "URL | None"]


async def walk_tags(
    scope: AuthScope,
    first: URL,
    *,
    settings: RegistrySettings,
    page_sizes: PageSizes,
    fetch: Fetch,
    follow: Follow,
) -> TagListing:
    """Every tag from `first` on, following the registry's pages."""
    host = scope.host
    url = first
    share = _at_most.get()
    cap = settings.max_tags if share is None else min(settings.max_tags, share)
    of = "the cap of" if cap == settings.max_tags else "its share of the sync's budget,"
    # A dict keeps the registry's order and drops repeats in one structure (no list + set).
    tags: dict[str, None] = {}
    asked: set[str] = set()
    for _page in range(settings.max_pages):
        asked.add(url.raw_path_qs)
        reply = await fetch(url)
        if refuses_page_size(reply.status, reply.body):
            # Quay answered 413 to n > 100, ECR refuses n > 1000: ask this page again with 100.
            smaller = with_smaller_page(url, page_sizes, host)
            if smaller is not None:
                logger.info("%s refused %s; asking for 100 tags per page", host, url.query_string[:80])
                url = smaller
                asked.add(url.raw_path_qs)
                reply = await fetch(url)
        check_reply(reply, scope, kind="tags")
        page_tags = parse_tags(reply.body, scope)
        answered, headers = reply.url, reply.headers
        del reply  # the raw page is not needed any more
        if len(tags) + len(page_tags) <= cap:
            tags.update(dict.fromkeys(page_tags))  # the common case: the whole page fits
        else:
            for tag in page_tags:
                if len(tags) >= cap and tag not in tags:
                    logger.warning("tag listing of %s truncated at %s %d tags", scope.subject, of, cap)
                    return TagListing(tuple(tags), truncated=True)
                tags[tag] = None
        del page_tags
        following = follow(answered, headers)
        if following is None:
            return TagListing(tuple(tags))
        if len(tags) >= cap:
            logger.warning("listing of %s truncated at %s %d tags", scope.subject, of, cap)
            return TagListing(tuple(tags), truncated=True)
        if following.raw_path_qs in asked:  # host and path are checked: the query tells pages apart
            logger.warning(
                "tag listing of %s: the registry links back to a page already read; ending the listing",
                scope.subject,
            )
            return TagListing(tuple(tags))
        url = following
    logger.warning(
        "tag listing of %s truncated after %d pages (%d tags)",
        scope.subject,
        settings.max_pages,
        len(tags),
    )
    return TagListing(tuple(tags), truncated=True)
