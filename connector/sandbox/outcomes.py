"""What becomes of each synthetic person in sales: the hidden model behind the planted outcomes.

Whether a person becomes an opportunity is a coin weighted by a logistic model of
who they really are (their true title and company, whether or not the CRM was told)
and what they did. The weights are deliberately not the shipped rules
(``config/scoring.yaml``): a learner fed the outcomes has real signal to find, and
the default rules are only partly right. In log-odds::

    logit P(opportunity) = -4.1
        + seniority     vp +1.1, director +1.0, manager +0.5, executive +0.5,
                        individual 0, entry -0.9, student -2.5
        + size          0.9 - 0.45 * (log10(employees) - 2.9)^2   (peak near 800; unknown -0.3)
        + industry      Logistics +0.6, Healthcare +0.5, Manufacturing +0.4,
                        Financial Services +0.3, Insurance +0.2, Software +0.1,
                        Retail -0.2, Hospitality -0.3, Government -0.5,
                        Education -0.6, Non-Profit -0.8, others 0
        + email         free mail -0.7, student -2.0, competitor -4.0
        + 0.55 ln(1 + pricing-page views) + 0.15 ln(1 + other page views)
        + 0.3 ln(1 + email clicks) + 0.12 per download + 0.1 per webinar attended
        + demo request +1.6, contact sales +1.9, meeting +1.3, trial +0.5, call/chat +0.4
        + timeline      this quarter +0.7, next quarter +0.35, just researching -0.6
        + budget        over $50k +0.4, under $10k -0.4
        + careers pages -0.8, unsubscribed -1.2
        + interactions  executive at under 50 employees -1.0;
                        a hand raised (demo / contact sales) by a VP, director or
                        executive at 50+ employees +0.6; a hand raised from free mail -0.5
        + noise         N(0, 0.7)

    logit P(won | opportunity) = -1.1 + vp/director +0.5, executive +0.2
        + near-term timeline +0.5 + budget stated +0.3
        + 100-2000 employees +0.3, over 5000 -0.3 + Logistics/Healthcare +0.3 + N(0, 0.6)

So the rules overrate executives, webinars, downloads, newsletters, trials, the
sales territory and big enterprises, and know nothing of the industries that buy.

When: a person is *qualified-ish* at their latest raised hand (demo / contact-sales /
trial form, meeting, call), else at the middle of their activity. The opportunity
opens about three days later (exponential), the deal runs 10 days plus 15 days per
decade of head count above 30, plus an exponential 15 days. Only what has
happened by ``now`` exists in a CRM: an opportunity due after now has not opened
yet (``opportunity_at`` is None), a deal due to close after now is still open.
Existing customers (the ``customer`` segment) won a deal in their first months.
Amounts grow with head count (about $6k at 100 employees, x2.5 per decade) with
log-normal spread; about one deal in seven has no amount. Everything is drawn
from the caller's random stream, so the same seed gives the same outcomes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from connector.model import Activity

DAY = 86400.0
_TWO_HOURS = timedelta(hours=2)
_SENIORITY = {
    "executive": 0.5,
    "vp": 1.1,
    "director": 1.0,
    "manager": 0.5,
    "individual": 0.0,
    "entry": -0.9,
    "student": -2.5,
}
_INDUSTRY = {
    "Logistics": 0.6,
    "Healthcare": 0.5,
    "Manufacturing": 0.4,
    "Financial Services": 0.3,
    "Insurance": 0.2,
    "Software": 0.1,
    "Retail": -0.2,
    "Hospitality": -0.3,
    "Government": -0.5,
    "Education": -0.6,
    "Non-Profit": -0.8,
}
_EMAIL = {"business": 0.0, "free": -0.7, "student": -2.0, "competitor": -4.0}
_TIMELINE = {"this quarter": 0.7, "next quarter": 0.35, "just researching": -0.6}
_BUDGET = {"> $100k": 0.4, "$50k-$100k": 0.4, "< $10k": -0.4}
_SENIOR = frozenset({"executive", "vp", "director"})
_HAND_RAISERS = frozenset({"meeting_booked", "call", "trial_signup"})
#: activities the model does not read
_SILENT = frozenset({"site_visit", "email_open", "newsletter_signup", "webinar_registration"})
_HAND_RAISING_FORMS = ("demo", "contact sales", "trial")


class Traits(NamedTuple):
    """The truth about a person the hidden model reads, whether or not the CRM holds it.

    A named tuple, not a frozen dataclass: it is made once per synthetic person, and a
    frozen dataclass costs several times as much to make."""

    seniority: str  # executive vp director manager individual entry student
    size: int | None
    industry: str
    email_kind: str  # business free student competitor
    budget: str | None
    timeline: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a person in sales, as of the generator's ``now``.

    ``probability`` and ``win_probability`` are the hidden model's before the
    person's own noise: the best ranking any learner of these traits can reach.
    ``won`` is the deal's fate even while it is open (a CRM shows it only once
    ``closed``); ``progress`` is how far an open deal has come (0..1), for the stage
    a CRM shows; ``updated_at`` is when the opportunity last changed.
    """

    probability: float
    win_probability: float
    qualified_at: datetime
    opportunity_at: datetime | None = None
    closes_at: datetime | None = None
    closed: bool = False
    won: bool = False
    amount: float | None = None
    progress: float = 0.0
    updated_at: datetime | None = None

    @property
    def converted(self) -> bool:
        """Became an opportunity by now."""
        return self.opportunity_at is not None


@dataclass(slots=True)
class _Engagement:
    page_views: int = 0
    pricing_views: int = 0
    careers_views: int = 0
    clicks: int = 0
    downloads: int = 0
    webinars: int = 0
    demo: bool = False
    contact_sales: bool = False
    trial: bool = False
    meeting: bool = False
    conversations: bool = False
    unsubscribed: bool = False
    #: the latest raised hand (demo / contact-sales / trial form, meeting, call), if any
    raised_at: datetime | None = None


def _engagement(activities: tuple[Activity, ...] | list[Activity]) -> _Engagement:
    """What the hidden model reads of the activities, in one pass."""
    out = _Engagement()
    raised: datetime | None = None
    for activity in activities:
        kind = activity.type
        if kind == "page_view":
            url = activity.url or ""
            if url.endswith("/pricing"):
                out.pricing_views += activity.count
            elif url.endswith("/careers"):
                out.careers_views += activity.count
            else:
                out.page_views += activity.count
            continue
        if kind in _SILENT:
            continue
        if kind == "email_click":
            out.clicks += activity.count
        elif kind == "content_download":
            out.downloads += 1
        elif kind == "webinar_attendance":
            out.webinars += 1
        elif kind == "form_submission":
            name = (activity.name or "").lower()
            out.demo = out.demo or "demo" in name
            out.contact_sales = out.contact_sales or "contact sales" in name
            if any(form in name for form in _HAND_RAISING_FORMS) and (raised is None or activity.at > raised):
                raised = activity.at
            continue
        elif kind == "unsubscribe":
            out.unsubscribed = True
        elif kind == "chat":
            out.conversations = True
        if kind in _HAND_RAISERS:
            if kind == "trial_signup":
                out.trial = True
            elif kind == "meeting_booked":
                out.meeting = True
            else:
                out.conversations = True
            if raised is None or activity.at > raised:
                raised = activity.at
    out.raised_at = raised
    return out


def _size_term(size: int | None) -> float:
    if size is None:
        return -0.3
    return 0.9 - 0.45 * (math.log10(max(size, 1)) - 2.9) ** 2


def _opportunity_logit(traits: Traits, done: _Engagement) -> float:
    """The hidden model's log-odds of an opportunity, before noise (see the module docstring)."""
    size = traits.size or 0
    hand_raised = done.demo or done.contact_sales
    logit = -4.1 + _SENIORITY.get(traits.seniority, -0.3) + _size_term(traits.size)
    logit += _INDUSTRY.get(traits.industry, 0.0) + _EMAIL[traits.email_kind]
    logit += 0.55 * math.log1p(done.pricing_views) + 0.15 * math.log1p(done.page_views)
    logit += 0.3 * math.log1p(done.clicks) + 0.12 * done.downloads + 0.1 * done.webinars
    logit += 1.6 * done.demo + 1.9 * done.contact_sales + 1.3 * done.meeting + 0.5 * done.trial
    logit += 0.4 * done.conversations
    logit += _TIMELINE.get(traits.timeline or "", 0.0) + _BUDGET.get(traits.budget or "", 0.0)
    logit += -0.8 * (done.careers_views > 0) - 1.2 * done.unsubscribed
    if traits.seniority == "executive" and size < 50:
        logit -= 1.0
    if hand_raised and traits.seniority in _SENIOR and size >= 50:
        logit += 0.6
    if hand_raised and traits.email_kind == "free":
        logit -= 0.5
    return logit


def win_logit(traits: Traits) -> float:
    """The hidden model's log-odds that an opportunity is won, before noise."""
    size = traits.size or 0
    logit = -1.1 + (0.5 if traits.seniority in ("vp", "director") else 0.0)
    logit += 0.2 * (traits.seniority == "executive")
    logit += 0.5 * (traits.timeline in ("this quarter", "next quarter")) + 0.3 * (traits.budget is not None)
    logit += 0.3 if 100 <= size <= 2000 else (-0.3 if size > 5000 else 0.0)
    logit += 0.3 * (traits.industry in ("Logistics", "Healthcare"))
    return logit


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _whole_ms(moment: datetime) -> datetime:
    """Timestamps in whole milliseconds, as CRMs keep them."""
    return moment - timedelta(0, 0, moment.microsecond % 1000)


def _ready(done: _Engagement, activities: tuple[Activity, ...] | list[Activity], created: datetime) -> datetime:
    """When a person was ready for sales: their latest raised hand, else the middle of their activity."""
    if done.raised_at is not None:
        return done.raised_at
    moments = sorted(a.at for a in activities)
    return moments[len(moments) // 2] if moments else created


def draw_outcome(
    rng: random.Random,
    traits: Traits,
    activities: tuple[Activity, ...] | list[Activity],
    created: datetime,
    now: datetime,
    customer: bool = False,
) -> Outcome:
    """Draw one person's outcome from ``rng`` (a fixed number of draws, so streams stay aligned)."""
    noise, win_noise = rng.gauss(0.0, 0.7), rng.gauss(0.0, 0.6)
    coin, win_coin, lag, tail = rng.random(), rng.random(), rng.expovariate(1 / 3), rng.expovariate(1 / 15)
    amount_spread, no_amount = rng.lognormvariate(0.0, 0.45), rng.random() < 0.15
    done = _engagement(activities)
    logit, odds_of_winning = _opportunity_logit(traits, done), win_logit(traits)
    probability, win_probability = _sigmoid(logit), _sigmoid(odds_of_winning)
    size = traits.size or 10
    if customer:  # an existing customer: a deal won early in their life with us
        ready = created
        opened = created + (now - created) * 0.1
        closes = min(opened + _cycle(size, tail), created + (now - created) * 0.6)
        won = True
    else:
        ready = _ready(done, activities, created)
        # as timedelta(days=lag, hours=2) rounds it (whole hours add no rounding), at half the cost
        opened = ready + timedelta(lag) + _TWO_HOURS
        if coin >= _sigmoid(logit + noise) or opened > now:
            return Outcome(probability, win_probability, ready)
        closes = opened + _cycle(size, tail)
        won = win_coin < _sigmoid(odds_of_winning + win_noise)
    amount = None if no_amount else float(round(6000 * (size / 100) ** 0.4 * amount_spread, -2) or 100)
    opened, closes = _whole_ms(opened), _whole_ms(closes)
    closed = closes <= now
    if closed:
        progress, updated = 1.0, closes
    else:
        progress = (now - opened) / (closes - opened)
        updated = _whole_ms(opened + (now - opened) * progress)
    return Outcome(
        probability if not customer else 1.0,
        win_probability,
        ready,
        opportunity_at=opened,
        closes_at=closes,
        closed=closed,
        won=won,
        amount=amount,
        progress=progress,
        updated_at=updated,
    )


def _cycle(size: int, tail: float) -> timedelta:
    """How long a deal runs: longer at bigger companies."""
    return timedelta(10 + 15 * max(0.0, math.log10(size) - 1.5) + tail)
