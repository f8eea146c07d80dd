"""The org's daily API request allocation: a rolling 24 hours, reported on every reply.

Salesforce counts API requests over a rolling day and answers each with
``Sforce-Limit-Info: api-usage=N/M``; once ``N`` reaches ``M`` calls are refused
with 403 ``REQUEST_LIMIT_EXCEEDED`` ("TotalRequests Limit exceeded.") until old
calls age out of the window. Refused calls are not counted.
"""

from __future__ import annotations

from connector.sandbox.clock import Clock
from connector.sandbox.ratelimit import RollingWindow
from connector.sandbox.salesforce.errors import TOTAL_REQUESTS_MESSAGE, error
from connector.sandbox.server import HttpError

DAY_S = 86400.0
LIMIT_HEADER = "Sforce-Limit-Info"


class DailyAllocation:
    """``limit`` API requests per rolling 24 hours."""

    def __init__(self, limit: int, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("daily_limit must be at least 1")
        self.window = RollingWindow(limit, DAY_S, clock)

    @property
    def limit(self) -> int:
        return self.window.limit

    def configure(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("daily_limit must be at least 1")
        self.window.limit = limit

    def used(self) -> int:
        return self.window.used()

    def header(self) -> dict[str, str]:
        """``Sforce-Limit-Info`` as it stands."""
        return {LIMIT_HEADER: f"api-usage={self.used()}/{self.limit}"}

    def spend(self) -> dict[str, str]:
        """Count one request; its header, or HttpError(403 REQUEST_LIMIT_EXCEEDED) when the day is spent."""
        admitted, _ = self.window.acquire()
        if not admitted:
            refusal = exceeded()
            refusal.headers.update(self.header())
            raise refusal
        return self.header()

    def reset(self) -> None:
        self.window.reset()


def exceeded() -> HttpError:
    """The daily-quota refusal."""
    return error(403, "REQUEST_LIMIT_EXCEEDED", TOTAL_REQUESTS_MESSAGE)


def limits_body(used: int, limit: int, query_jobs: int) -> dict[str, dict[str, int]]:
    """``GET /limits``: the daily API allocation and Bulk API 2.0 query jobs as counted, other allocations untouched."""

    def entry(maximum: int, spent: int = 0) -> dict[str, int]:
        return {"Max": maximum, "Remaining": max(maximum - spent, 0)}

    return {
        "ConcurrentAsyncGetReportInstances": entry(200),
        "ConcurrentSyncReportRuns": entry(20),
        "DailyApiRequests": entry(limit, used),
        "DailyAsyncApexExecutions": entry(250000),
        "DailyBulkApiBatches": entry(15000),
        "DailyBulkV2QueryFileStorageMB": entry(976562),
        "DailyBulkV2QueryJobs": entry(10000, query_jobs),
        "DailyWorkflowEmails": entry(1890),
        "DataStorageMB": entry(5),
        "FileStorageMB": entry(20),
        "HourlyTimeBasedWorkflow": entry(50),
        "SingleEmail": entry(15),
    }
