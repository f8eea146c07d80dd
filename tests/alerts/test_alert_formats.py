"""What a channel and a generic receiver get: the Slack message, the JSON body and the signature."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import timedelta

from alert_builders import AT, RECORD_URL, SIGNING_SECRET, new_sql, sla_breach
from hypothesis import given
from hypothesis import strategies as st

from connector.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, json_body, render, signature_headers, slack_message
from connector.alerts import verify_signature as verify
from connector.alerts.formats import clean_text, duration_words

NOW = AT.timestamp()


def texts(message: dict) -> list[str]:
    """Every mrkdwn string of a Slack message, the fallback first."""
    out = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", [])]
    return out


# ------------------------------------------------------------ Slack


def test_a_new_sql_posts_headline_facts_why_now_and_a_link_to_the_record():
    message = slack_message(new_sql())
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "section", "context"]
    headline, facts, why, context = message["blocks"]
    assert headline["text"] == {"type": "mrkdwn", "text": f"*New SQL:* *<{RECORD_URL}|Ana Ruiz>* (Acme)"}
    assert [f["text"] for f in facts["fields"]] == [
        "*Score*\n87 (grade A)",
        "*Stage*\nSQL",
        "*Owner*\nSam Rep",
        "*Follow up by*\n<!date^1794999600^{date_short_pretty} at {time}|2026-11-18 11:00 UTC>",
    ]
    assert why["text"]["text"] == "*Why now*\n• Requested a demo yesterday\n• VP-level title (VP Engineering)"
    assert [e["text"] for e in context["elements"]] == [
        f"<{RECORD_URL}|Open the record>",
        "Handoff · alert:1001:2:new_sql",
    ]
    assert message["text"] == "New SQL: Ana Ruiz (Acme), score 87 (grade A): Requested a demo yesterday"


def test_an_sla_breach_says_how_late_and_when_it_was_due():
    message = slack_message(sla_breach(timedelta(hours=2, minutes=15)))
    assert message["blocks"][0]["text"]["text"].endswith("(Acme), 2 hours 15 minutes overdue")
    assert "*Was due*\n<!date^1794996000^" in [f["text"] for f in message["blocks"][1]["fields"]][3]
    assert message["text"].startswith("Follow-up overdue: Ana Ruiz (Acme), 2 hours 15 minutes overdue")


def test_a_sparse_record_still_reads_well():
    message = slack_message(
        new_sql(
            name=None,
            company=None,
            score=None,
            grade=None,
            reasons=(),
            owner_id=None,
            owner_name=None,
            due_at=None,
            record_url=None,
        )
    )
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "context"]
    assert message["blocks"][0]["text"]["text"] == "*New SQL:* *Lead 1001*"
    assert [f["text"] for f in message["blocks"][1]["fields"]] == [
        "*Score*\nunknown",
        "*Stage*\nSQL",
        "*Owner*\nunassigned",
    ]
    assert message["text"] == "New SQL: Lead 1001, score unknown"


def test_crm_text_is_escaped_so_it_cannot_forge_links_or_markup_entities():
    message = slack_message(new_sql(name="Ana <https://evil.example|click> & co", company="A>B", record_url=None))
    assert message["blocks"][0]["text"]["text"] == (
        "*New SQL:* *Ana &lt;https://evil.example|click&gt; &amp; co* (A&gt;B)"
    )


def test_record_content_cannot_mention_a_channel_or_a_person():
    message = slack_message(
        new_sql(
            name="<!channel> Ana",
            company="<@U024BE7LH>",
            owner_name="<!subteam^S0123|sales>",
            reasons=("@here call now", "ping @Everyone", "<!here|here>"),
        )
    )
    everything = "\n".join(texts(message))
    for token in ("<!channel>", "<!here", "<@U", "<!subteam", "@here", "@Everyone", "@channel"):
        assert token not in everything
    assert "＠here call now" in everything  # still readable, with no power to notify


def test_control_characters_and_line_breaks_in_record_content_cannot_add_lines():
    message = slack_message(new_sql(name="Ana\nRuiz\x07\u202e", reasons=("Requested\r\na demo\t\x00today",)))
    assert message["blocks"][0]["text"]["text"].endswith("|Ana Ruiz>* (Acme)")
    assert message["blocks"][2]["text"]["text"] == "*Why now*\n• Requested a demo today"


def test_long_texts_are_clipped_to_fit_slacks_limits():
    message = slack_message(new_sql(name="A" * 5000, reasons=("x" * 5000,) * 50))
    assert len(message["blocks"][0]["text"]["text"]) < 400
    why = message["blocks"][2]["text"]["text"]
    assert len(why) < 3000 and why.count("\n• ") == 8 and why.endswith("…")


def test_a_record_link_with_slack_syntax_in_it_stays_one_link():
    message = slack_message(new_sql(record_url="https://crm.example/r?a=1&b=x|y>z"))
    assert "<https://crm.example/r?a=1&amp;b=x%7Cy%3Ez|Open the record>" in texts(message)


hostile = st.lists(
    st.one_of(
        st.characters(codec=None, categories=["Cc", "Cf", "Cs", "Zl", "Zp", "Zs", "Po", "Sm", "L"]),
        st.sampled_from(["<", ">", "&", "|", "!", "@", "<!channel>", "<!here>", "@here", "<@U1>", "&lt;", "\n"]),
    ),
    max_size=30,
).map("".join)
# what Handoff itself puts in angle brackets: links to the record and date tokens
OWN_TOKENS = re.compile(r"<https://[^<>|\s]+\|[^<>]*>|<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]*>")
BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


@given(name=hostile, company=hostile, owner=hostile, reasons=st.lists(hostile, max_size=4))
def test_hostile_record_text_never_escapes_into_slack_syntax(name, company, owner, reasons):
    message = slack_message(new_sql(name=name, company=company, owner_name=owner, reasons=tuple(reasons)))
    for text in texts(message):
        outside = OWN_TOKENS.sub("", text)
        assert "<" not in outside and ">" not in outside
        assert not re.search(r"&(?!amp;|lt;|gt;)", text)  # every & is an entity Slack decodes
        assert not BROADCAST.search(text)
        for line in text.split("\n"):
            assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")]
    kept = [r for r in reasons if clean_text(r)]
    if kept:
        assert message["blocks"][2]["text"]["text"].count("\n") == len(kept)  # one line per reason, no more
    render(new_sql(name=name, reasons=tuple(reasons)), "slack")  # always encodes


# ------------------------------------------------------------ JSON


def test_the_json_body_is_a_stable_versioned_object():
    assert json_body(sla_breach(timedelta(minutes=90))) == {
        "version": 1,
        "event": "sla_breach",
        "key": "alert:1001:2:sla_breach",
        "occurred_at": "2026-11-18T11:30:00.000Z",
        "record": {"id": "1001", "episode": 2, "url": RECORD_URL},
        "person": {"name": "Ana Ruiz", "company": "Acme"},
        "stage": "sql",
        "score": 87,
        "grade": "A",
        "reasons": ["Requested a demo yesterday", "VP-level title (VP Engineering)"],
        "owner": {"id": "77", "name": "Sam Rep"},
        "due_at": "2026-11-18T10:00:00.000Z",
        "overdue_seconds": 5400,
    }


def test_the_json_body_keeps_crm_text_unescaped_but_clean_and_unknowns_null():
    body = json_body(new_sql(name="Ana <b>\n& co", company="", owner_name=None, record_url=None))
    assert body["person"] == {"name": "Ana <b> & co", "company": None}
    assert body["owner"]["name"] is None and body["record"]["url"] is None
    assert body["overdue_seconds"] is None and body["due_at"] == "2026-11-18T11:00:00.000Z"


@given(name=hostile, reasons=st.lists(hostile, max_size=4))
def test_any_record_text_renders_to_ascii_json_with_no_control_characters(name, reasons):
    raw = render(new_sql(name=name, reasons=tuple(reasons)), "json")
    body = json.loads(raw.decode("ascii"))
    strings = [body["person"]["name"] or "", *body["reasons"]]
    assert not [c for s in strings for c in s if unicodedata.category(c) in ("Cc", "Cs")]


def test_duration_words_keep_the_two_largest_units():
    assert duration_words(timedelta(seconds=20)) == "less than a minute"
    assert duration_words(timedelta(minutes=1)) == "1 minute"
    assert duration_words(timedelta(hours=2, minutes=15, seconds=59)) == "2 hours 15 minutes"
    assert duration_words(timedelta(days=3, hours=4, minutes=5)) == "3 days 4 hours"
    assert duration_words(timedelta(days=1, minutes=5)) == "1 day"


# ------------------------------------------------------------ signature


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    # worked out independently: printf '1700000000.{"version":1}' | openssl dgst -sha256 -hmac s3cret
    headers = signature_headers("s3cret", b'{"version":1}', 1700000000)
    assert headers == {
        TIMESTAMP_HEADER: "1700000000",
        SIGNATURE_HEADER: "sha256=a88b61052c4236878628e418fb04bb6048d23e65d5ad3c5daf2866200cb2994f",
    }


def test_a_receiver_accepts_a_fresh_signature_over_the_exact_body():
    body = render(new_sql(), "json")
    headers = signature_headers(SIGNING_SECRET, body, int(NOW))
    stamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert verify(SIGNING_SECRET, body, stamp, signature, now=NOW + 60)
    assert not verify(SIGNING_SECRET, body + b" ", stamp, signature, now=NOW)  # body changed
    assert not verify("another-secret", body, stamp, signature, now=NOW)
    assert not verify(SIGNING_SECRET, body, str(int(NOW) + 1), signature, now=NOW)  # timestamp changed
    assert not verify(SIGNING_SECRET, body, stamp, signature, now=NOW + 301)  # a replay, too old
    assert not verify(SIGNING_SECRET, body, stamp, signature.replace("sha256=", "sha1="), now=NOW)
    assert not verify(SIGNING_SECRET, body, None, signature, now=NOW)
    assert not verify(SIGNING_SECRET, body, "soon", signature, now=NOW)
