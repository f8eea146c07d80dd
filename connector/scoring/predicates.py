"""Rule conditions turned into plain functions, built once per rules file."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from connector.model import Activity
from connector.scoring.rules import ActivityTest, PropertyTest
from connector.scoring.values import as_number, as_text, comparable, email_domain, is_blank

#: (the lead's properties, its email domain) -> does the property test hold
PropertyPredicate = Callable[[Mapping[str, Any], str], bool]
#: does one activity meet a rule's conditions beyond its type
ActivityPredicate = Callable[[Activity], bool]


def property_predicate(test: PropertyTest, lists: Mapping[str, list[str]]) -> PropertyPredicate:
    """The test's one operator as a function of the lead's properties and email domain."""
    field_name = test.field or "email"

    def listed(ref: str | list[Any]) -> list[Any]:
        return lists[ref] if isinstance(ref, str) else ref

    if test.domain_in is not None:
        domains = frozenset(d.lower() for d in listed(test.domain_in))

        def in_domains(props: Mapping[str, Any], domain: str) -> bool:
            value = domain if field_name == "email" else email_domain(props, field_name)
            # subdomains count: mail.rival.com belongs to rival.com, so try each parent domain
            while value:
                if value in domains:
                    return True
                value = value.partition(".")[2]
            return False

        return in_domains
    if test.present is not None:
        want = test.present
        return lambda props, _d: (not is_blank(props.get(field_name))) == want
    if test.matches is not None:
        search = re.compile(test.matches, re.IGNORECASE).search
        return lambda props, _d: (v := props.get(field_name)) is not None and v != "" and search(as_text(v)) is not None
    if test.one_of is not None:
        options = frozenset(comparable(o) for o in listed(test.one_of))
        return lambda props, _d: comparable(props.get(field_name)) in options
    if test.none_of is not None:
        excluded = frozenset(comparable(o) for o in listed(test.none_of))
        return lambda props, _d: not is_blank(v := props.get(field_name)) and comparable(v) not in excluded
    if test.not_equals is not None:
        unwanted = comparable(test.not_equals)
        return lambda props, _d: not is_blank(v := props.get(field_name)) and comparable(v) != unwanted
    if test.min is not None or test.max is not None:
        low = -math.inf if test.min is None else test.min
        high = math.inf if test.max is None else test.max

        def in_range(props: Mapping[str, Any], _d: str) -> bool:
            number = as_number(props.get(field_name))
            return number is not None and low <= number <= high

        return in_range
    wanted = comparable(test.equals)
    return lambda props, _d: comparable(props.get(field_name)) == wanted


def activity_predicate(test: ActivityTest) -> ActivityPredicate | None:
    """The conditions beyond the type (URL, name), or None when the type is enough."""
    checks: list[ActivityPredicate] = []
    if test.url_contains is not None:
        needles = [
            n.lower() for n in ([test.url_contains] if isinstance(test.url_contains, str) else test.url_contains)
        ]
        checks.append(lambda a: a.url is not None and any(n in a.url.lower() for n in needles))
    if test.url_matches is not None:
        url_search = re.compile(test.url_matches, re.IGNORECASE).search
        checks.append(lambda a: a.url is not None and url_search(a.url) is not None)
    if test.name_matches is not None:
        name_search = re.compile(test.name_matches, re.IGNORECASE).search
        checks.append(lambda a: a.name is not None and name_search(a.name) is not None)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda a: all(check(a) for check in checks)
