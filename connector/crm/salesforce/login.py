"""Building the simple-salesforce client from one of the three ways an org lets Handoff in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from connector.crm.errors import StopRun


@dataclass(frozen=True)
class SalesforceLogin:
    """Credentials as plain values; exactly one flow applies (session, JWT, or password)."""

    api_version: str
    domain: str = "login"
    instance_url: str | None = None
    session_id: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    consumer_key: str | None = None
    private_key_file: Path | None = None
    #: a private CA bundle path, or True for the system's
    verify: str | bool = True


def connect(login: SalesforceLogin) -> Salesforce:
    """Log in (or adopt a session) and return the client; a failed login stops the run with one line."""
    session = requests.Session()
    session.verify = login.verify  # for the login flows; REST calls pass it themselves
    try:
        return _client(login, session)
    except SalesforceAuthenticationFailed as exc:
        raise StopRun(f"Salesforce login failed: {exc.code}") from None
    except requests.exceptions.RequestException as exc:
        raise StopRun(f"cannot reach Salesforce to log in ({type(exc).__name__})") from None


def _client(login: SalesforceLogin, session: requests.Session) -> Salesforce:
    if login.session_id is not None:
        return Salesforce(
            session_id=login.session_id, instance_url=login.instance_url, version=login.api_version, session=session
        )
    if login.consumer_key:
        return Salesforce(
            username=login.username,
            consumer_key=login.consumer_key,
            privatekey_file=str(login.private_key_file),
            domain=login.domain,
            version=login.api_version,
            session=session,
        )
    return Salesforce(
        username=login.username,
        password=login.password or "",
        security_token=login.security_token or "",
        domain=login.domain,
        version=login.api_version,
        session=session,
    )
