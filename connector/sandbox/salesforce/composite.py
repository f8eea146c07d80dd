"""``POST /services/data/vXX.X/composite``: up to 25 subrequests in one call toward the daily allocation.

Each subrequest is dispatched to the same handler a direct call of its ``url`` reaches, with the
outer request's headers (and its own ``httpHeaders``); its reply comes back as
``{"body", "httpHeaders", "httpStatusCode", "referenceId"}`` in request order. The outer call
answers 200 whatever the subrequests answered. The whole series is one call for the stats and the
daily allocation: subrequests never pass through the sandbox's pipeline themselves.

Supported, as Salesforce documents: sObject resources, Query, QueryAll, query-more and sObject
Collections; at most 25 subrequests, at most 5 of them queries or collections. With ``allOrNone``
false a failed subrequest only fails itself; with ``allOrNone`` true a failure halts the rest and
the others answer 400 ``PROCESSING_HALTED``. References between subrequests (``@{ref.field}``) are
resolved from the bodies of earlier subrequests.

Salesforce documents the limits but not its reply to a request past them or malformed: those
replies here (400 with a list of one ``{errorCode, message}``, ``LIMIT_EXCEEDED`` for the limits,
``INVALID_API_INPUT`` or ``JSON_PARSER_ERROR`` otherwise) are a plausible shape, their wording ours.
"""

from __future__ import annotations

import json
import re
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from connector.sandbox.salesforce.errors import error, request_json
from connector.sandbox.server import HttpError, Request, Response, RouteNotFound, Router, encode_json

MAX_SUBREQUESTS = 25
#: Query, QueryAll, query-more and sObject Collections subrequests together
MAX_QUERIES = 5
_BASE = re.compile(r"/services/data/v\d{2,3}\.\d/")
_VERSION = re.compile(r"/services/data/(v\d{2,3}\.\d)/")
_SUPPORTED = re.compile(r"/services/data/v\d{2,3}\.\d/(sobjects|query|queryAll|composite/sobjects)(/|\?|$)")
_COUNTED = re.compile(r"/services/data/v\d{2,3}\.\d/(query|queryAll|composite/sobjects)(/|\?|$)")
_REFERENCE_ID = re.compile(r"[A-Za-z0-9_]+\Z")
_REFERENCE = re.compile(r"@\{(\w+)((?:\.\w+|\[\d+\])*)\}")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
#: headers a subrequest inherits from the outer request and may not set itself
_INHERITED = ("accept", "authorization", "content-type")
HALTED_MESSAGE = "The transaction was rolled back since another operation in the same transaction failed."


class CompositeRoute:
    """The composite resource, dispatching subrequests through ``router`` (the org's REST routes)."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def __call__(self, request: Request) -> Response:
        subrequests, all_or_none = _body(request)
        version = request.params["version"]
        if len(subrequests) > MAX_SUBREQUESTS:
            # the wording is ours (Salesforce documents the limit, not the reply): a 400 with a list of one error
            raise error(400, "LIMIT_EXCEEDED", f"Composite request can have at most {MAX_SUBREQUESTS} subrequests")
        if sum(1 for s in subrequests if _COUNTED.match(s["url"])) > MAX_QUERIES:
            raise error(
                400,
                "LIMIT_EXCEEDED",
                f"Composite request can have at most {MAX_QUERIES} query or sObject Collections subrequests",
            )
        if all_or_none and any(s["method"] != "GET" for s in subrequests):
            # rolling writes back across subrequests is more than the sandbox's org journal does
            raise error(400, "INVALID_API_INPUT", "the sandbox serves allOrNone composite requests of GETs only")
        results: list[dict[str, Any]] = []
        bodies: dict[str, _Reply] = {}
        failed = False
        for sub in subrequests:
            if failed and all_or_none:
                results.append(_result(sub, 400, [{"errorCode": "PROCESSING_HALTED", "message": HALTED_MESSAGE}]))
                continue
            response = self._dispatch(request, sub, bodies, version)
            bodies[sub["referenceId"]] = _Reply(response.body)
            failed = failed or response.status >= 400
            results.append(_result(sub, response.status, response.body, response.headers))
        if failed and all_or_none:
            results = [
                r
                if r["httpStatusCode"] >= 400
                else {
                    **r,
                    "httpStatusCode": 400,
                    "body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED_MESSAGE}],
                }
                for r in results
            ]
        return Response(200, _encoded({"compositeResponse": results}))

    def _dispatch(self, outer: Request, sub: dict[str, Any], bodies: dict[str, _Reply], version: str) -> Response:
        try:
            url = _resolve(sub["url"], bodies)
            body = _resolve_body(sub.get("body"), bodies)
        except LookupError as missing:
            return _reply(error(400, "INVALID_REFERENCE", f"Invalid reference specified: {missing}"))
        split = urlsplit(url)
        try:
            handler, params, _template = self.router.match(sub["method"], split.path)
        except RouteNotFound as missing:
            if missing.allowed:
                allowed = ",".join(missing.allowed)
                return _reply(
                    error(
                        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{sub['method']}' not allowed. Allowed are {allowed}"
                    )
                )
            return _reply(error(404, "NOT_FOUND", "The requested resource does not exist"))
        found = _VERSION.match(split.path)
        if found is not None and found.group(1) != version:
            # the outer URL's version governs: a subrequest of another version is refused (our wording)
            return _reply(error(400, "INVALID_API_INPUT", f"Subrequest version {found.group(1)} is not {version}"))
        headers = Message()
        for name, value in outer.headers.items():
            if name.lower() in (*_INHERITED, "host"):
                headers[name] = value
        for name, value in (sub.get("httpHeaders") or {}).items():
            headers[name] = str(value)
        request = Request(
            method=sub["method"],
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True) if split.query else {},
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            params=params,
            label=outer.label,
        )
        try:
            return handler(request)
        except HttpError as refused:
            return _reply(refused)


def _body(request: Request) -> tuple[list[dict[str, Any]], bool]:
    """The subrequests (each checked for method, url and referenceId) and ``allOrNone``."""
    body = request_json(request)
    subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subrequests, list) or not subrequests:
        raise error(400, "JSON_PARSER_ERROR", "compositeRequest: a list of one subrequest or more is required")
    seen: set[str] = set()
    for sub in subrequests:
        if not isinstance(sub, dict) or not all(isinstance(sub.get(k), str) for k in ("method", "url", "referenceId")):
            raise error(400, "JSON_PARSER_ERROR", "each subrequest needs a method, a url and a referenceId")
        if sub["method"] not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            raise error(400, "INVALID_API_INPUT", f"Invalid HTTP method: {sub['method']}")
        reference = sub["referenceId"]
        if not _REFERENCE_ID.match(reference):
            raise error(400, "INVALID_API_INPUT", f"Invalid reference id: {reference}")
        if reference in seen:
            raise error(400, "INVALID_API_INPUT", f"Duplicate reference id: {reference}")
        seen.add(reference)
        if not _BASE.match(sub["url"]) or not _SUPPORTED.match(sub["url"]):
            raise error(400, "INVALID_API_INPUT", f"Composite does not support this resource: {sub['url']}")
        if any(str(name).lower() in _INHERITED for name in sub.get("httpHeaders") or {}):
            raise error(400, "INVALID_API_INPUT", "Accept, Authorization and Content-Type come from the outer request")
    return subrequests, bool(body.get("allOrNone", False))


def _result(sub: dict[str, Any], status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    # the composite resource sends no Content-Length for its subrequests
    kept = {k: v for k, v in (headers or {}).items() if k.lower() not in ("content-length", "content-type")}
    return {"body": body, "httpHeaders": kept, "httpStatusCode": status, "referenceId": sub["referenceId"]}


def _reply(refused: HttpError) -> Response:
    return Response(refused.status, refused.body, refused.headers)


def _encoded(body: dict[str, Any]) -> Any:
    """The reply encoded here: a query subrequest's rows may come encoded already, and if another
    subrequest holds a value orjson refuses (an integer past 64 bits) the server's slower encoder
    cannot take them, so then every subrequest's body goes back as plain JSON."""
    try:
        return orjson.Fragment(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))
    except orjson.JSONEncodeError:
        for result in body["compositeResponse"]:
            result["body"] = _Reply(result["body"]).plain()
        return body


class _Reply:
    """An earlier subrequest's body, read back as plain JSON the first time a reference names it
    (a query's rows come encoded already)."""

    __slots__ = ("_plain", "body")

    def __init__(self, body: Any) -> None:
        self.body = body
        self._plain: Any = None

    def plain(self) -> Any:
        if self._plain is None:
            self._plain = json.loads(encode_json(self.body))
        return self._plain


def _lookup(reference: str, path: str, bodies: dict[str, _Reply]) -> Any:
    """The value ``@{reference<path>}`` names in an earlier subrequest's body; LookupError if none."""
    if reference not in bodies:
        raise LookupError(reference)
    value = bodies[reference].plain()
    for name, index in _STEP.findall(path):
        try:
            value = value[name] if name else value[int(index)]
        except (KeyError, IndexError, TypeError):
            raise LookupError(f"{reference}{path}") from None
    return value


def _resolve(text: str, bodies: dict[str, _Reply]) -> str:
    return _REFERENCE.sub(lambda m: str(_lookup(m.group(1), m.group(2), bodies)), text)


def _resolve_body(body: Any, bodies: dict[str, _Reply]) -> Any:
    if isinstance(body, str):
        whole = _REFERENCE.fullmatch(body)
        # a reference standing alone keeps its value's type (an id, a number)
        return _lookup(whole.group(1), whole.group(2), bodies) if whole else _resolve(body, bodies)
    if isinstance(body, dict):
        return {k: _resolve_body(v, bodies) for k, v in body.items()}
    if isinstance(body, list):
        return [_resolve_body(v, bodies) for v in body]
    return body
