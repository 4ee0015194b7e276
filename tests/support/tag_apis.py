"""Docker Hub's tags API and GitHub's package versions, served from a table of tags and digests.

`TagApiFront(table)` answers on loopback, as the real APIs do:
- `GET /v2/namespaces/<ns>/repositories/<name>/tags?page_size=N` (at most 100 a page, newest
  first, `next` an absolute URL with `page=`), `results[].name` and `results[].digest`;
- `GET /orgs|users/<ns>/packages/container/<package>/versions?per_page=N` (the package name
  URL-encoded, `/` as `%2F`), one version per digest whose `metadata.container.tags` are all its
  tags, plus `untagged` untagged versions per digest (a multi-platform image's platform manifests),
  `Link` paging; a Bearer token is required and `orgs` answers 404 for a namespace in `users`.
The table is `{"<ns>/<name>": {tag: digest}}`. Hostile answers on demand: `bad` maps tags to
what is sent as their digest instead, `twice` (GitHub) to a second version claiming them too,
`fail` is a list of statuses the next requests get (429 with `Retry-After: 0`), `cross_host_next`
links the second page to another host. `log` counts requests.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.proxying import RequestLog, SeenRequest
from tests.support.serving import BackgroundServer

TOKEN = "ghp_tag_api_token"
HUB_LOGIN = {"username": "amduser", "password": "dckr_pat_tag_api"}
HUB_JWT = "hub.tag.api.jwt"


@dataclass
class TagApiFront:
    table: Mapping[str, Mapping[str, str]]
    users: frozenset[str] = frozenset()
    """Namespaces that are GitHub users, not organisations."""
    untagged: int = 0
    bad: dict[str, object] = field(default_factory=dict)
    twice: dict[str, str] = field(default_factory=dict)
    """GitHub: tags also claimed by a later version of this digest."""
    fail: list[int] = field(default_factory=list)
    cross_host_next: bool = False
    log: RequestLog = field(default_factory=RequestLog)
    _server: BackgroundServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> TagApiFront:
        app = web.Application()
        app.router.add_get("/v2/namespaces/{ns}/repositories/{name}/tags", self._hub)
        app.router.add_post("/v2/users/login", self._hub_login)
        app.router.add_get("/{owner:orgs|users}/{ns}/packages/container/{package}/versions", self._github)
        self._server = BackgroundServer(app, name="tag-api-front").start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def _seen(self, request: web.Request, status: int) -> None:
        auth = request.headers.get("Authorization")
        self.log.add(SeenRequest(request.method, request.path, request.query_string, auth, status))

    def _failure(self, request: web.Request) -> web.Response | None:
        with self._lock:
            status = self.fail.pop(0) if self.fail else None
        if status is None:
            return None
        self._seen(request, status)
        headers = {"Retry-After": "0"} if status == 429 else {}
        return web.json_response({"message": "no"}, status=status, headers=headers)

    def _page(
        self, request: web.Request, items: list[object], size_param: str
    ) -> tuple[list[object], str | None]:
        size = min(100, int(request.query.get(size_param, "10")))
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * size : page * size]
        if page * size >= len(items):
            return chunk, None
        following = request.url.update_query(page=str(page + 1))
        if self.cross_host_next and page == 1:
            following = following.with_host("localhost")
        return chunk, str(following)

    def _digest(self, tag: str, digest: str) -> object:
        return self.bad.get(tag, digest)

    async def _hub(self, request: web.Request) -> web.Response:
        if (refused := self._failure(request)) is not None:
            return refused
        tags = self.table.get(f"{request.match_info['ns']}/{request.match_info['name']}")
        if tags is None:
            self._seen(request, 404)
            return web.json_response({"message": "object not found"}, status=404)
        newest_first = [{"name": t, "digest": self._digest(t, d)} for t, d in reversed(list(tags.items()))]
        chunk, following = self._page(request, list(newest_first), "page_size")
        self._seen(request, 200)
        return web.json_response({"count": len(tags), "next": following, "results": chunk})

    async def _hub_login(self, request: web.Request) -> web.Response:
        if await request.json() != HUB_LOGIN:
            self._seen(request, 401)
            return web.json_response({"detail": "Incorrect authentication credentials"}, status=401)
        self._seen(request, 200)
        return web.json_response({"token": HUB_JWT})

    async def _github(self, request: web.Request) -> web.Response:
        if (refused := self._failure(request)) is not None:
            return refused
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._seen(request, 401)
            return web.json_response({"message": "Requires authentication"}, status=401)
        namespace = request.match_info["ns"]
        is_user = namespace in self.users
        package = request.match_info["package"]  # aiohttp hands it decoded: `a%2Fb` is `a/b`
        tags = self.table.get(f"{namespace}/{package}")
        if tags is None or is_user != (request.match_info["owner"] == "users"):
            self._seen(request, 404)
            return web.json_response({"message": "Package not found."}, status=404)
        by_digest: dict[str, list[str]] = {}
        for tag, digest in tags.items():
            by_digest.setdefault(digest, []).append(tag)
        versions: list[object] = []
        for number, (digest, named) in enumerate(reversed(list(by_digest.items()))):
            sent = [t for t in named if t not in self.bad]
            versions.append(_version(number, digest, sent))
            versions += [_version(number * 100 + i, f"sha256:{i:064x}", []) for i in range(self.untagged)]
            versions += [_version(number, self.bad[t], [t]) for t in named if t in self.bad]
            versions += [_version(number, self.twice[t], [t]) for t in named if t in self.twice]
        chunk, following = self._page(request, versions, "per_page")
        self._seen(request, 200)
        headers = {"Link": f'<{following}>; rel="next"'} if following else {}
        return web.json_response(chunk, headers=headers)


def _version(number: int, name: object, tags: list[str]) -> dict[str, object]:
    return {
        "id": number,
        "name": name,
        "metadata": {"package_type": "container", "container": {"tags": tags}},
    }
