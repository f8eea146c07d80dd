"""Typing activities from the free-text names CRMs keep (form conversions, campaign names)."""

from __future__ import annotations

import re

# Form and campaign names are free text; these patterns say what kind of response each is.
_NAMED_TYPES = (
    (re.compile(r"newsletter|subscri", re.I), "newsletter_signup"),
    (re.compile(r"webinar|register", re.I), "webinar_registration"),
    (
        re.compile(r"download|e-?book|guide|whitepaper|white paper|report|playbook|template|checklist", re.I),
        "content_download",
    ),
    (re.compile(r"free trial|start (a |your )?trial|trial sign", re.I), "trial_signup"),
)


def conversion_type(name: str) -> str:
    """The canonical activity a form or campaign name stands for; a plain form submission when unsure."""
    for pattern, kind in _NAMED_TYPES:
        if pattern.search(name):
            return kind
    return "form_submission"
