"""The push-event receiver: HTTP in, pushes routed to the sources they cover.

- `receiver` — `POST /hooks/<provider>/<token>`, one aiohttp application.
- `token` — the webhook token, read from a Secret and re-read every minute.
- `routes` — which sources cover a pushed repository, kept from the source watch.

Uses the domain (payloads, references, spec) only; the operator's state feeds `routes`.
"""
