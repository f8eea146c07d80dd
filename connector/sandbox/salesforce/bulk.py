"""Bulk API 2.0 query jobs under ``/services/data/vXX.X/jobs/query`` (API 47.0 and later).

``POST jobs/query`` with ``{"operation": "query" | "queryAll", "query": soql}`` creates a job
(200, state ``UploadComplete``); the query runs at once, against the same SOQL subset and
errors as the REST query route, so the first ``GET jobs/query/<id>`` answers ``JobComplete``
(clients such as simple-salesforce sleep between polls: a sandbox that kept a job in progress
would only make tests wait). ``GET jobs/query/<id>/results?maxRecords=&locator=`` pages the
result as CSV (every value quoted, a null as ``""``, datetimes as ``2023-10-22T06:25:12.000Z``,
the header row on every page) with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (the
string ``null`` on the last page). Every call counts toward the daily API allocation like any
other; job creations also count toward the 10,000 query jobs a rolling day allows
(``DailyBulkV2QueryJobs``), refused past that with 400 ``LIMIT_EXCEEDED``. Aggregate queries
(``COUNT()``) are refused, as Bulk API 2.0 does.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connector.sandbox.clock import Clock
from connector.sandbox.ratelimit import RollingWindow
from connector.sandbox.salesforce.errors import error, not_found, object_body
from connector.sandbox.salesforce.ids import IdFactory
from connector.sandbox.salesforce.query import Column, Compiled, QueryEngine
from connector.sandbox.salesforce.soql import SoqlError
from connector.sandbox.salesforce.values import sf_datetime
from connector.sandbox.server import Request, Response, Router

BASE = "/services/data/{version}/jobs/query"
JOBS_PER_DAY = 10_000
DAY_S = 86400.0
#: the first API version with Bulk API 2.0 query jobs
FIRST_VERSION = 47.0
CSV_CONTENT_TYPE = "text/csv"
JOB_PREFIX = "750"
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
#: finished jobs kept for their results (the oldest go first; a real org keeps them 7 days)
_MAX_JOBS = 64


@dataclass(slots=True)
class _Job:
    info: dict[str, Any]
    header: bytes
    lines: list[bytes]


class QueryJobs:
    """The org's Bulk API 2.0 query jobs: created, read, paged, aborted and deleted."""

    def __init__(self, engine: QueryEngine, ids: IdFactory, clock: Clock, user_id: Callable[[], str | None]) -> None:
        self._engine = engine
        self._ids = ids
        self._clock = clock
        self._user_id = user_id
        self._jobs: OrderedDict[str, _Job] = OrderedDict()
        self._lock = threading.Lock()
        self.created = RollingWindow(JOBS_PER_DAY, DAY_S, clock)

    def register(self, router: Router) -> None:
        for template in (BASE, BASE + "/"):
            router.add("POST", template, self.create)
        router.add("GET", BASE + "/{job}", self.info)
        router.add("PATCH", BASE + "/{job}", self.abort)
        router.add("DELETE", BASE + "/{job}", self.delete)
        router.add("GET", BASE + "/{job}/results", self.results)

    # -- routes ------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        version = _version(request)
        body = object_body(request)
        operation, soql = body.get("operation"), body.get("query")
        if operation not in ("query", "queryAll"):
            raise error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        if not isinstance(soql, str) or not soql.strip():
            raise error(400, "INVALIDJOB", "InvalidJob : A query is required for a query job")
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS or ending not in LINE_ENDINGS:
            raise error(400, "INVALIDJOB", f"InvalidJob : Invalid columnDelimiter or lineEnding: {delimiter}, {ending}")
        compiled = self._compile(soql)
        if compiled.count:
            raise error(400, "API_ERROR", "Aggregate queries are not supported by the Bulk API")
        admitted, _ = self.created.acquire()
        if not admitted:
            used = self.created.used()
            raise error(
                400, "LIMIT_EXCEEDED", f"Max bulk v2 query jobs ({JOBS_PER_DAY}) per 24 hrs has been reached ({used})"
            )
        started = self._clock()
        _, rows = self._engine.run_compiled(compiled, operation == "queryAll", "v" + version)
        header, lines = _csv(compiled, rows, DELIMITERS[delimiter], LINE_ENDINGS[ending])
        now = sf_datetime(self._clock())
        info: dict[str, Any] = {
            "id": self._ids.new(JOB_PREFIX),
            "operation": operation,
            "object": compiled.sobject.name,
            "createdById": self._user_id() or "",
            "createdDate": now,
            "systemModstamp": now,
            "state": "UploadComplete",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "lineEnding": ending,
            "columnDelimiter": delimiter,
        }
        job = _Job(
            {
                **info,
                "jobType": "V2Query",
                "state": "JobComplete",
                "numberRecordsProcessed": len(lines),
                "retries": 0,
                "totalProcessingTime": int((self._clock() - started) * 1000),
            },
            header,
            lines,
        )
        with self._lock:
            self._jobs[info["id"]] = job
            while len(self._jobs) > _MAX_JOBS:
                self._jobs.popitem(last=False)
        return Response(200, info)

    def info(self, request: Request) -> Response:
        return Response(200, self._job(request).info)

    def abort(self, request: Request) -> Response:
        job = self._job(request)
        if object_body(request).get("state") != "Aborted":
            raise error(400, "INVALIDJOB", "InvalidJob : a query job can only be set to Aborted")
        if job.info["state"] == "JobComplete":
            raise error(400, "INVALIDSTATUS", "Cannot abort a job that is in a terminal state (JobComplete)")
        return Response(200, job.info)

    def delete(self, request: Request) -> Response:
        self._job(request)
        with self._lock:
            self._jobs.pop(request.params["job"], None)
        return Response(204)

    def results(self, request: Request) -> Response:
        job = self._job(request)
        start = _offset(request.first("locator") or "")
        if start > len(job.lines):
            raise error(400, "INVALIDLOCATOR", "Invalid locator")
        size = _max_records(request.first("maxRecords"))
        end = len(job.lines) if size is None else min(start + size, len(job.lines))
        locator = _locator(end) if end < len(job.lines) else "null"
        return Response(
            200,
            b"".join((job.header, *job.lines[start:end])),
            {"Content-Type": CSV_CONTENT_TYPE, "Sforce-Locator": locator, "Sforce-NumberOfRecords": str(end - start)},
        )

    # -- shared ------------------------------------------------------------------------

    def _job(self, request: Request) -> _Job:
        _version(request)
        with self._lock:
            job = self._jobs.get(request.params["job"])
        if job is None:
            raise not_found()
        return job

    def _compile(self, soql: str) -> Compiled:
        try:
            return self._engine.prepare(soql)
        except SoqlError as refused:
            raise error(400, refused.code, refused.message(soql)) from None


def _version(request: Request) -> str:
    """The request's API version as ``59.0``; Bulk API 2.0 query jobs are not found before 47.0."""
    version = request.params["version"].removeprefix("v")
    if float(version) < FIRST_VERSION:
        raise not_found()
    return version


def _csv(compiled: Compiled, rows: list[dict[str, Any]], delimiter: str, ending: str) -> tuple[bytes, list[bytes]]:
    """The header line and one line per row, every value quoted as Bulk API 2.0 writes them."""
    columns = [column for _, column in compiled.columns]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending, quoting=csv.QUOTE_ALL)

    def line(values: list[str]) -> bytes:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue().encode()

    header = line([_name(column) for column in columns])
    cells = [_cell(column) for column in columns]
    return header, [line([cell(row) for cell in cells]) for row in rows]


def _name(column: Column) -> str:
    return column.field.name if column.target is None else f"{column.relationship}.{column.target}"


def _cell(column: Column) -> Callable[[dict[str, Any]], str]:
    """What reads a column of a rendered row as CSV text."""
    text = _datetime_text if column.type == "datetime" else _text
    if column.target is None:
        name = column.field.name
        return lambda row: text(row.get(name))
    relationship, target = column.relationship or "", column.target
    return lambda row: text((row.get(relationship) or {}).get(target))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _datetime_text(value: Any) -> str:
    # stored in REST's form (``...000+0000``); Bulk API 2.0 writes UTC as ``Z``
    return "" if value is None else str(value).replace("+0000", "Z")


def _locator(offset: int) -> str:
    """An opaque locator: like Salesforce's, the offset in base64 without padding."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    if not locator:
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.isdigit():
        raise error(400, "INVALIDLOCATOR", "Invalid locator")
    return int(text)


def _max_records(value: str | None) -> int | None:
    """``maxRecords``: a positive whole number, or none (the rest of the result)."""
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1:
        raise error(400, "INVALIDJOB", f"InvalidJob : maxRecords must be a positive integer: {value}")
    return int(value)
