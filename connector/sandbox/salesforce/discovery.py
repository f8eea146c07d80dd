"""``GET /services/data/vXX.X/``: Resources by Version, the resources an API version serves.

Besides each resource's path it carries ``identity``, the Identity URL
``https://<host>/id/<org id>/<user id>``: how a client learns which user its
session acts as (the user its writes leave in ``LastModifiedById``).
"""

from __future__ import annotations

from collections.abc import Callable

from connector.sandbox.salesforce.ids import checksum
from connector.sandbox.server import Request, Response

#: the sandbox's one org
ORG_ID = "00D000000000001" + checksum("00D000000000001")
_RESOURCES = ("sobjects", "query", "queryAll", "composite", "limits", "search", "tooling", "chatter", "recent")


class Discovery:
    """The Resources by Version reply, for the user API calls act as (``user_id()``)."""

    def __init__(self, user_id: Callable[[], str | None]) -> None:
        self.user_id = user_id

    def __call__(self, request: Request) -> Response:
        version = request.params["version"]
        body = {name: f"/services/data/{version}/{name}" for name in _RESOURCES}
        host = request.headers.get("Host") or "127.0.0.1"
        body["identity"] = f"https://{host}/id/{ORG_ID}/{self.user_id() or ''}"
        return Response(200, body)
