"""Alerts: tell a channel when a lead becomes SQL (optionally MQL) and when a follow-up runs late.

Three parts, pure to I/O:

- :mod:`~connector.alerts.events`: :class:`AlertEvent` (kind, record, episode, who, why now,
  owner, due time, record link) with its idempotency key ``alert:<record>:<episode>:<kind>``;
  builders from the lifecycle's task (:func:`qualified_event`) and from an episode
  (:func:`sla_breach_event`); CRM record links (:func:`hubspot_record_url`,
  :func:`salesforce_record_url`).
- :mod:`~connector.alerts.formats`: the Slack message, the versioned JSON body, the HMAC-SHA256
  signature headers and :func:`verify_signature` for receivers.
- :mod:`~connector.alerts.sender`: :class:`AlertSender` posts one event and returns
  :class:`Sent`, :class:`RetryLater` or :class:`Failed`; it never raises for a webhook failure.

How the sync loop uses it (:mod:`connector.sync.alerting`, the ledger in :mod:`connector.state.alerts`):

1. When the policy decides a task for a new SQL/MQL (or the SLA check finds an episode past its
   due time with no touch), build the event and *claim* it in the alert ledger: insert the row
   keyed by ``event.key`` if absent, in the same transaction that records the decision. Only the
   process whose insert won goes on, so a replica or a rerun after a crash never claims it twice.
2. After the page's CRM writes, post the claimed, unsent alerts that are due (bounded per
   delivery), skipping records whose write waits for a retry: store ``attempts + 1`` *before*
   posting, then ``sender.send(event)``.
3. ``Sent``: mark the row sent. ``RetryLater``: keep it for the next cycle, not before
   ``retry_after``, and post no more this run; after ``HANDOFF_MAX_WRITE_ATTEMPTS`` cycles of it,
   dead-letter it with ``error``. ``Failed``: dead-letter at once. A failing webhook therefore
   costs each run at most ``max_attempts`` bounded requests and never stops the sync.

Once per event holds for everything Handoff decides. Delivery itself is at least once: if the
process dies after a receiver accepted a post but before the row is marked sent, the post is
repeated on restart. Receivers drop such repeats by the body's ``key`` (also sent as the
``Idempotency-Key`` header); Slack cannot, so it may rarely show one twice.
"""

from connector.alerts.events import (
    AlertEvent,
    AlertKind,
    InvalidAlert,
    alert_key,
    hubspot_record_url,
    qualified_event,
    salesforce_record_url,
    sla_breach_event,
)
from connector.alerts.formats import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertFormat,
    json_body,
    render,
    signature_headers,
    slack_message,
    verify_signature,
)
from connector.alerts.sender import (
    AlertConfig,
    AlertConfigError,
    AlertSender,
    Failed,
    RetryLater,
    SendOutcome,
    Sent,
)

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AlertConfig",
    "AlertConfigError",
    "AlertEvent",
    "AlertFormat",
    "AlertKind",
    "AlertSender",
    "Failed",
    "InvalidAlert",
    "RetryLater",
    "SendOutcome",
    "Sent",
    "alert_key",
    "hubspot_record_url",
    "json_body",
    "qualified_event",
    "render",
    "salesforce_record_url",
    "signature_headers",
    "sla_breach_event",
    "slack_message",
    "verify_signature",
]
