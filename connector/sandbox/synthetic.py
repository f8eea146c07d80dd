"""Deterministic synthetic people for every sandbox, benchmark and the demo.

CRM-agnostic: people come out as canonical :class:`~connector.model.Lead` objects
(properties named as in DESIGN.md 4.3) with canonical activities, plus the owners
(sales reps and a queue) they are assigned to. Each CRM sandbox renders them into
its own records. Same ``seed`` and ``now``: same people, on every machine.

The mix is meant to look like a real B2B funnel: most people are cold, a warm and
an engaged middle, a small minority of hot leads with buying intent (demo requests,
contact-sales forms, pricing pages, meetings), and the usual noise: students,
competitors, job seekers, free-mail addresses and unsubscribers.

Each person also has an :class:`~connector.sandbox.outcomes.Outcome`: whether and
when they became an opportunity and whether it was won, drawn from the hidden
model in :mod:`connector.sandbox.outcomes` with a random stream of its own (so the
people themselves are the same as without outcomes). A person who became an
opportunity by ``now`` is in lifecycle stage ``opportunity`` (``customer`` once won)
and owned by a sales rep.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.model import Activity, Lead, lead_from_json, trusted_activity
from connector.sandbox.draws import Ranges, Stream, Weighted
from connector.sandbox.outcomes import Outcome, Traits, draw_outcome

#: the website of the (fictional) company whose funnel the data describes
SITE = "https://www.northbeam.example"
#: email domains of the competitors in the data: the ones config/scoring.yaml disqualifies
COMPETITOR_DOMAINS = ("rivalcrm.com", "leadforge.io", "pipelinely.com")
FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "icloud.com", "proton.me")
STUDENT_DOMAINS = ("student.uni-example.edu", "mail.college-example.edu", "uni-example.ac.uk")

SEGMENTS = ("cold", "warm", "engaged", "hot", "customer", "student", "competitor")
_SEGMENT_WEIGHTS = (52, 22, 12, 6, 3, 3, 2)

_FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Elena",
    "Farah",
    "Gabriel",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Laura",
    "Mateo",
    "Nina",
    "Oliver",
    "Priya",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tara",
    "Umar",
    "Valeria",
    "William",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Giulia",
    "Hugo",
    "Ingrid",
    "Jonas",
    "Kavya",
    "Liam",
    "Mei",
    "Noah",
    "Olga",
    "Pedro",
    "Rahul",
    "Sofia",
    "Tomás",
    "Aoife",
    "Björn",
    "Chen",
    "Leila",
    "Marta",
    "Nikos",
    "Renée",
    "Sven",
    "Yara",
    "Zeynep",
    "Lucas",
    "Emma",
    "Jakob",
)
_LAST_NAMES = (
    "Garcia",
    "Smith",
    "Müller",
    "Rossi",
    "Kim",
    "Nguyen",
    "Patel",
    "Okafor",
    "Silva",
    "Novak",
    "Jensen",
    "Dubois",
    "Tanaka",
    "Kowalski",
    "Haddad",
    "Fischer",
    "Lopez",
    "Brown",
    "Wang",
    "Singh",
    "Ivanova",
    "Costa",
    "O'Brien",
    "Andersson",
    "Moreau",
    "Schmidt",
    "Yilmaz",
    "Khan",
    "Ferrari",
    "Hughes",
    "Sato",
    "Mendes",
    "Larsen",
    "Nowak",
    "Weber",
    "Papadopoulos",
    "Cohen",
    "Reyes",
    "Hoffmann",
    "Chatterjee",
    "Walker",
    "Bianchi",
    "Lindqvist",
    "Ortiz",
    "Murphy",
    "Fernández",
    "Ahmed",
    "Becker",
    "Park",
    "Horvat",
)
_NAME_HEADS = (
    "North",
    "Blue",
    "Bright",
    "Iron",
    "Silver",
    "Green",
    "Rapid",
    "Clear",
    "Summit",
    "Harbor",
    "Vertex",
    "Nimbus",
    "Atlas",
    "Cobalt",
    "Quantum",
    "Pioneer",
    "Maple",
    "Granite",
    "Lumen",
    "Orbit",
    "Polar",
    "Cedar",
)
_NAME_MIDS = ("", "", "Bay", "Peak", "Line", "Point", "Stone", "Field", "Gate", "Wave", "Ridge")
_NAME_TAILS = (
    "Labs",
    "Systems",
    "Analytics",
    "Logistics",
    "Health",
    "Robotics",
    "Foods",
    "Energy",
    "Capital",
    "Works",
    "Media",
    "Retail",
    "Bank",
    "Insurance",
    "Manufacturing",
    "Software",
    "Networks",
    "Studio",
    "Partners",
)
_LEGAL_FORMS = {"DE": " GmbH", "GB": " Ltd", "US": " Inc.", "FR": " SA", "NL": " B.V.", "SE": " AB", "ES": " S.L."}
_INDUSTRIES = (
    ("Software", 18),
    ("Financial Services", 10),
    ("Healthcare", 8),
    ("Manufacturing", 9),
    ("Retail", 8),
    ("Education", 4),
    ("Logistics", 6),
    ("Media", 5),
    ("Energy", 4),
    ("Consulting", 7),
    ("Telecommunications", 4),
    ("Insurance", 4),
    ("Government", 3),
    ("Non-Profit", 2),
    ("Hospitality", 3),
    ("Real Estate", 3),
)
_COUNTRIES = (
    ("US", 30),
    ("GB", 10),
    ("DE", 10),
    ("FR", 6),
    ("NL", 4),
    ("CA", 5),
    ("AU", 4),
    ("IN", 6),
    ("BR", 4),
    ("ES", 3),
    ("IT", 3),
    ("SE", 2),
    ("JP", 3),
    ("SG", 2),
    ("MX", 2),
    ("PL", 2),
    ("ZA", 1),
    ("NG", 1),
    ("AE", 2),
)
# (title, seniority) with a weight: many individual contributors, few executives
_TITLES = (
    ("CEO", "executive", 2),
    ("CTO", "executive", 2),
    ("CFO", "executive", 1),
    ("COO", "executive", 1),
    ("CMO", "executive", 1),
    ("Chief Revenue Officer", "executive", 1),
    ("Founder", "executive", 2),
    ("VP Engineering", "vp", 2),
    ("VP Sales", "vp", 2),
    ("VP Marketing", "vp", 2),
    ("VP Operations", "vp", 1),
    ("Director of IT", "director", 3),
    ("Director of Marketing", "director", 3),
    ("Head of Sales Operations", "director", 2),
    ("Head of Data", "director", 2),
    ("Director of Finance", "director", 2),
    ("Engineering Manager", "manager", 4),
    ("Marketing Manager", "manager", 5),
    ("RevOps Manager", "manager", 3),
    ("IT Manager", "manager", 4),
    ("Product Manager", "manager", 4),
    ("Sales Manager", "manager", 3),
    ("Software Engineer", "individual", 8),
    ("Data Analyst", "individual", 5),
    ("Marketing Specialist", "individual", 5),
    ("Account Executive", "individual", 4),
    ("Sales Development Representative", "individual", 3),
    ("Consultant", "individual", 3),
    ("Operations Coordinator", "individual", 3),
    ("Office Manager", "individual", 2),
    ("Intern", "entry", 2),
    ("Assistant", "entry", 2),
)
_LEAD_SOURCES = (
    ("organic_search", 30),
    ("direct_traffic", 15),
    ("paid_search", 12),
    ("email_marketing", 10),
    ("social_media", 9),
    ("referrals", 10),
    ("paid_social", 6),
    ("offline", 5),
    ("other_campaigns", 3),
)
_CONTENT = (
    "The RevOps Playbook (ebook)",
    "State of Lead Scoring 2026 (report)",
    "Pipeline Hygiene Checklist",
    "ROI Calculator",
    "Buyer's Guide to Sales Automation",
)
_WEBINARS = ("Webinar: Speed to Lead", "Webinar: Scoring that Sales Trusts", "Webinar: Q3 Product Tour")
_BLOG_PAGES = (
    "/blog/lead-scoring-101",
    "/blog/mql-vs-sql",
    "/blog/speed-to-lead",
    "/product",
    "/integrations",
    "/customers",
    "/docs/getting-started",
    "/blog/revops-metrics",
)
_BUDGETS = ("< $10k", "$10k-$50k", "$50k-$100k", "> $100k")
_TIMELINES = ("this quarter", "next quarter", "this year", "just researching")
_NEEDS = ("replace spreadsheets", "faster lead routing", "better MQL quality", "consolidate tools")
_LEAD_STATUS = (
    ("NEW", 30),
    ("OPEN", 25),
    ("IN_PROGRESS", 8),
    ("ATTEMPTED_TO_CONTACT", 10),
    ("CONNECTED", 6),
    ("BAD_TIMING", 5),
    ("UNQUALIFIED", 4),
    (None, 12),
)
_OWNER_NAMES = (
    ("Maya", "Lindgren"),
    ("Tom", "Okoye"),
    ("Sara", "Beck"),
    ("Diego", "Alvarez"),
    ("Hannah", "Park"),
    ("Victor", "Mensah"),
    ("Lena", "Vogel"),
    ("Ravi", "Iyer"),
)


@dataclass(frozen=True, slots=True)
class Owner:
    """A CRM user who can own records: a sales rep, or a queue (no user behind it)."""

    id: str
    first_name: str
    last_name: str
    email: str
    kind: str  # "person" | "queue"
    team: str
    user_id: int | None


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    domain: str
    size: int
    industry: str
    country: str


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic person: the canonical lead, when they entered the CRM, their segment,
    and what became of them in sales."""

    lead: Lead
    created_at: datetime
    segment: str
    outcome: Outcome

    @property
    def hot(self) -> bool:
        """Showed buying intent (demo request, contact sales, meeting)."""
        return self.segment == "hot"


@dataclass(frozen=True, slots=True)
class Population:
    """Everything a sandbox needs to seed a portal: owners and people."""

    owners: tuple[Owner, ...]
    people: tuple[Person, ...]


def generate_owners(seed: int) -> tuple[Owner, ...]:
    """Six to eight sales reps in two teams, plus one inbound queue."""
    rng = random.Random(f"owners-{seed}")
    count = rng.randint(6, 8)
    owners = []
    for i, (first, last) in enumerate(_OWNER_NAMES[:count]):
        owner_id = str(41000000 + rng.randint(100000, 999999))
        email = f"{_ascii(first).lower()}.{_ascii(last).lower()}@northbeam.example"
        team = "Inbound Sales" if i % 2 == 0 else "Enterprise Sales"
        owners.append(Owner(owner_id, first, last, email, "person", team, 9000000 + rng.randint(100000, 999999)))
    owners.append(
        Owner(str(42000000 + rng.randint(100000, 999999)), "Inbound", "Queue", "", "queue", "Inbound Sales", None)
    )
    return tuple(owners)


def generate(n: int, seed: int, now: datetime) -> Population:
    """Owners plus ``n`` people, all derived from ``seed``; activity never later than ``now``."""
    owners = generate_owners(seed)
    return Population(owners, tuple(iter_people(n, seed, now, owners)))


def activity_from_json(data: Any) -> Activity:
    """A canonical activity from a control API's JSON (DESIGN.md 4.3 shape), for any sandbox."""
    # one parser for the canonical shape, with its field-by-field messages
    return lead_from_json({"id": "x", "activities": [data]}).activities[0]


def generate_people(n: int, seed: int, now: datetime, owners: tuple[Owner, ...] | None = None) -> list[Person]:
    """``n`` deterministic people (see the module docstring for the mix)."""
    return list(iter_people(n, seed, now, owners))


def iter_people(n: int, seed: int, now: datetime, owners: tuple[Owner, ...] | None = None) -> Iterator[Person]:
    """The people of :func:`generate_people` one at a time, for a store that seeds as they come."""
    rng = Stream(seed)
    if owners is None:
        owners = generate_owners(seed)
    companies = _companies(rng, min(max(12, n // 6), 4000))
    company_weights = [1.0 / (i + 1) ** 0.7 for i in range(len(companies))]  # a few big accounts, a long tail
    segments = rng.choices(SEGMENTS, _SEGMENT_WEIGHTS, k=n)
    picked = rng.choices(companies, company_weights, k=n)
    # outcomes draw from a stream of their own: the people stay what they were without them
    make = _PersonMaker(rng, Stream(f"outcomes-{seed}"), now.astimezone(UTC), owners).make
    for i, (segment, company) in enumerate(zip(segments, picked, strict=True)):
        yield make(i, segment, company)


#: below this many milliseconds (the year 2106) a float of seconds is within half a
#: microsecond of the exact moment, so ``fromtimestamp`` rounds it to the exact one
_FLOAT_EXACT_MS = 2**32 * 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_from_timestamp = datetime.fromtimestamp


def _from_ms(ms: int) -> datetime:
    """The UTC datetime ``ms`` milliseconds after the epoch, exactly (CRM timestamps have whole ms)."""
    if 0 <= ms < _FLOAT_EXACT_MS:
        return _from_timestamp(ms / 1000, UTC)
    return _EPOCH + timedelta(milliseconds=ms)


def _activity(kind: str, ms: int, count: int = 1, name: str | None = None, url: str | None = None) -> Activity:
    """``Activity(kind, <ms after the epoch>, count, name, url)``, made without the constructor's checks.

    Activities made here are valid by construction (an aware UTC time in whole milliseconds, a
    small count); the constructor's per-field ``object.__setattr__`` and working ``ts`` out of the
    datetime again were together a quarter of the generator's time.
    """
    at = _from_timestamp(ms / 1000, UTC) if 0 <= ms < _FLOAT_EXACT_MS else _from_ms(ms)
    return trusted_activity(kind, at, count, name, url, ms / 1000)  # ms / 1000 is what at.timestamp() gives


def _ascii(text: str) -> str:
    if text.isascii():
        return text.replace("'", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


def _companies(rng: Stream, count: int) -> list[Company]:
    industries = Weighted.of(_INDUSTRIES)
    countries = Weighted.of(_COUNTRIES)
    seen: set[str] = set()
    out: list[Company] = []
    while len(out) < count:
        brand = f"{rng.choice(_NAME_HEADS)}{rng.choice(_NAME_MIDS).lower()} {rng.choice(_NAME_TAILS)}"
        if brand in seen:
            brand = f"{brand} {len(out)}"  # only once the name space runs out
        seen.add(brand)
        country = rng.pick(countries)
        # log-uniform from 2 to 50,000 employees: many small companies, some enterprises
        size = round(10 ** rng.uniform(0.3, 4.7))
        name = brand + (_LEGAL_FORMS.get(country, "") if rng.random() < 0.4 else "")
        domain = brand.lower().replace(" ", "") + rng.choice((".com", ".io", ".net", ".co"))
        out.append(Company(name, domain, size, rng.pick(industries), country))
    return out


# per segment: how engaged (0 cold .. 3 hot), and the chance of content downloads at that level
_LEVELS = {"cold": 0, "student": 1, "competitor": 2, "warm": 1, "engaged": 2, "hot": 3, "customer": 2}
_DOWNLOAD_CHANCE = tuple(0.4 + 0.2 * level for level in range(4))
# whole URLs made once: every page view of a page shares one string
_BLOG_URLS = tuple(SITE + page for page in _BLOG_PAGES)
_CAREERS_URL = SITE + "/careers"
_PRICING_URL = SITE + "/pricing"
_FORMS = Weighted(("Request a demo", "Contact sales", "Start free trial"), (5, 8, 10), 10.0, 2)
_DAY_S = 86400
# page views and email opens by level: every level's count is drawn, whatever the level
_VIEWS = Ranges.of((0, 3), (3, 15), (10, 40), (15, 60))
_OPENS = Ranges.of((0, 2), (2, 8), (5, 20), (6, 25))


class _PersonMaker:
    """Makes one person at a time; keeps shared lookups out of the per-person path.

    Every draw is made in the same order as it always was (people, then their
    activities, stage, owner and properties; outcomes from a stream of their own), so a
    seed gives the same people whatever is made faster here."""

    def __init__(self, rng: Stream, outcome_rng: Stream, now: datetime, owners: tuple[Owner, ...]) -> None:
        self.rng = rng
        self.outcome_rng = outcome_rng
        self.now = now
        self.now_ts = now.timestamp()
        self.reps = [o for o in owners if o.kind == "person"]
        self.rep_ids = frozenset(o.id for o in self.reps)
        self.queue = next((o for o in owners if o.kind == "queue"), None)
        self.titles = Weighted.of(tuple((t[:2], t[2]) for t in _TITLES))
        # _TITLES lists managers and above first
        self.senior_titles = self.titles.head(sum(1 for t in _TITLES if t[1] not in ("individual", "entry")))
        self.sources = Weighted.of(_LEAD_SOURCES)
        self.statuses = Weighted.of(_LEAD_STATUS)
        self.used_emails: set[str] = set()
        self.local_parts: dict[tuple[str, str], str] = {}

    def make(self, index: int, segment: str, company: Company) -> Person:
        rng = self.rng
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        age_days = rng.uniform(1, 540) if segment != "hot" else rng.uniform(1, 120)
        created_ms = int((self.now_ts - age_days * _DAY_S) * 1000)
        created = _from_ms(created_ms)
        title, seniority = rng.pick(self.titles)
        if segment == "hot" and seniority in ("individual", "entry") and rng.random() < 0.5:
            # people who ask for a demo skew towards those who can buy
            title, seniority = rng.pick(self.senior_titles)
        company_name, industry, country = company.name, company.industry, company.country
        size: int | None = company.size
        domain = company.domain
        if segment == "student":
            title, domain, company_name, size, industry = (
                "Student",
                rng.choice(STUDENT_DOMAINS),
                "University",
                None,
                "Education",
            )
        elif segment == "competitor":
            domain = rng.choice(COMPETITOR_DOMAINS)
            company_name, size, industry = domain.split(".")[0].title(), 400, "Software"
        elif rng.random() < 0.22:  # people who sign up with a personal address
            domain = rng.choice(FREE_MAIL_DOMAINS)
        email = self._email(first, last, domain)
        activities = self._activities(segment, created_ms / 1000)  # created.timestamp(), exactly
        stage, status = self._stage(segment, activities)
        owner = self._owner(stage)
        random = rng.random
        asked = segment in ("hot", "customer") or (segment == "engaged" and random() < 0.3)
        properties: dict[str, Any] = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "job_title": title if random() > 0.06 else None,  # some never told us
            "company": company_name,
            "company_size": size if random() > 0.15 else None,
            "industry": industry,
            "country": country,
            "lead_source": rng.pick(self.sources),
            "lifecycle_stage": stage,
            "lead_status": status,
            "owner_id": owner,
            "budget": rng.choice(_BUDGETS) if asked and random() < 0.6 else None,
            "timeline": rng.choice(_TIMELINES) if asked and random() < 0.7 else None,
            "need": rng.choice(_NEEDS) if asked and random() < 0.5 else None,
        }
        outcome = self._outcome(segment, seniority, size, industry, domain, properties, activities, created)
        if outcome.converted:
            properties["lifecycle_stage"] = "customer" if outcome.closed and outcome.won else "opportunity"
            if properties["owner_id"] not in self.rep_ids:  # deals are worked by reps, not queues
                properties["owner_id"] = self.outcome_rng.choice(self.reps).id
        lead = Lead(f"p{index + 1:06d}", properties, tuple(activities))
        return Person(lead, created, segment, outcome)

    def _outcome(
        self,
        segment: str,
        seniority: str,
        size: int | None,
        industry: str,
        domain: str,
        properties: dict[str, Any],
        activities: list[Activity],
        created: datetime,
    ) -> Outcome:
        """The hidden model's draw, from the truth about the person (not what the CRM was told)."""
        if segment in ("student", "competitor"):
            email_kind = segment
        else:
            email_kind = "free" if domain in FREE_MAIL_DOMAINS else "business"
        traits = Traits(
            "student" if segment == "student" else seniority,
            size,
            industry,
            email_kind,
            properties["budget"],
            properties["timeline"],
        )
        return draw_outcome(self.outcome_rng, traits, activities, created, self.now, customer=segment == "customer")

    def _email(self, first: str, last: str, domain: str) -> str:
        local = self.local_parts.get((first, last))
        if local is None:
            local = self.local_parts[first, last] = f"{_ascii(first)}.{_ascii(last)}".lower()
        email = f"{local}@{domain}"
        suffix = 1
        while email in self.used_emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        self.used_emails.add(email)
        return email

    def _activities(self, segment: str, created_ts: float) -> list[Activity]:
        rng = self.rng
        randint, random, choice = rng.randint, rng.random, rng.choice
        now_ts = self.now_ts
        span = now_ts - created_ts

        def at(recent_days: float | None = None) -> int:
            """A moment (epoch ms) between ``created_ts`` and now, within the last ``recent_days`` if given."""
            within = span if recent_days is None or span <= recent_days * _DAY_S else recent_days * _DAY_S
            moment = now_ts - within * random()
            return int((moment if moment >= created_ts else created_ts) * 1000)

        out: list[Activity] = []
        add = out.append
        level = _LEVELS[segment]
        views = rng.randints(_VIEWS)[level]
        if views:
            add(_activity("page_view", at(), views, None, choice(_BLOG_URLS)))
            add(_activity("site_visit", at(), max(1, views // randint(2, 4))))
        if segment == "cold" and random() < 0.08:  # a job seeker, not a buyer
            add(_activity("page_view", at(), randint(1, 4), None, _CAREERS_URL))
        opens = rng.randints(_OPENS)[level]
        if opens:
            add(_activity("email_open", at(), opens))
            clicks = randint(0, max(0, opens // 3))
            if clicks:
                add(_activity("email_click", at(), clicks))
        if level >= 1 and random() < 0.45:
            add(_activity("newsletter_signup", at(), 1, "Newsletter subscription"))
        if level >= 1 and random() < _DOWNLOAD_CHANCE[level]:
            for _ in range(randint(1, level + 1)):
                add(_activity("content_download", at(), 1, choice(_CONTENT)))
        if level >= 2 and random() < 0.5:
            webinar = choice(_WEBINARS)
            registered = at()
            add(_activity("webinar_registration", registered, 1, webinar))
            if random() < 0.6:
                add(_activity("webinar_attendance", registered, 1, webinar))
        if segment == "hot":
            # what makes a lead hot: recent pricing views and a hand raised
            add(_activity("page_view", at(14), randint(1, 6), None, _PRICING_URL))
            form = rng.pick(_FORMS)
            raised = at(10)
            add(_activity("form_submission", raised, 1, form))
            if form == "Start free trial":
                add(_activity("trial_signup", raised, 1, "Free trial"))
            if random() < 0.45:
                add(_activity("meeting_booked", at(7), 1, "Discovery call"))
            if random() < 0.35:
                add(_activity("call", at(7), 1, "Intro call"))
            if random() < 0.15:
                add(_activity("chat", at(7), 1, "Pricing question"))
        elif segment == "engaged" and random() < 0.2:  # curious about price, not yet asking
            add(_activity("page_view", at(30), 1, None, _PRICING_URL))
        if segment == "customer":
            add(_activity("meeting_booked", at(), 1, "Quarterly business review"))
        if segment in ("cold", "warm") and random() < 0.06:
            add(_activity("unsubscribe", at()))
        return out

    def _stage(self, segment: str, activities: list[Activity]) -> tuple[str, str | None]:
        rng = self.rng
        if segment == "customer":
            return "customer", None
        if segment == "hot" and rng.random() < 0.3:
            return rng.choice(("mql", "sql")), rng.choice(("OPEN", "IN_PROGRESS", "CONNECTED"))
        if len(activities) == 1 and activities[0].type == "newsletter_signup":
            return "subscriber", None
        if segment == "engaged" and rng.random() < 0.15:
            return "mql", rng.choice(("OPEN", "ATTEMPTED_TO_CONTACT"))
        return "lead", rng.pick(self.statuses)

    def _owner(self, stage: str) -> str | None:
        rng = self.rng
        roll = rng.random()
        if stage in ("sql", "opportunity", "customer") or roll < 0.68:
            return rng.choice(self.reps).id
        if roll < 0.8 and self.queue is not None:
            return self.queue.id
        return None
