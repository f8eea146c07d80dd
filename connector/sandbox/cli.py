"""``handoff sandbox ...``: run a local CRM emulator until SIGTERM or Ctrl-C.

The first line on stdout is ``LISTENING <base-url>`` so scripts can wait for it; the
Salesforce sandbox serves HTTPS and adds `` ca=<path>``, the CA bundle clients must trust.
The second is ``TOKEN <token>``, the only credential it accepts; then the ``export``
lines that point Handoff at it.
"""

from __future__ import annotations

import shlex
import signal
import threading
from collections.abc import Mapping
from types import FrameType

import typer

from connector.sandbox.hubspot import DEFAULT_TOKEN, HubSpotConfig, HubSpotSandbox
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.sandbox import DEFAULT_DAILY_LIMIT
from connector.sandbox.server import SandboxServer

app = typer.Typer(help="Local CRM emulators for trying rules, tests, benchmarks and the demo.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Local CRM emulators (each serves until SIGTERM or Ctrl-C)."""


def announcement(base_url: str, token: str, env: Mapping[str, str], extra: str = "") -> str:
    """What the sandbox prints once it listens: where, the token it accepts, and how to point Handoff at it."""
    exports = "".join(f"  export {name}={shlex.quote(value)}\n" for name, value in env.items())
    return f"LISTENING {base_url}{extra}\nTOKEN {token}\nTo point Handoff at it, in another shell:\n{exports}"


def serve_until_signalled(server: SandboxServer, announce: str) -> None:
    """Start ``server``, print ``announce``, block until SIGTERM/SIGINT, then stop it."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    print(announce, end="", flush=True)
    try:
        while not stop.wait(timeout=0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command()
def hubspot(
    port: int = typer.Option(0, help="TCP port on 127.0.0.1 (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    token: str = typer.Option(DEFAULT_TOKEN, help="The only private-app token the portal accepts."),
    contacts: int = typer.Option(200, min=0, help="Synthetic contacts to seed."),
    seed: int = typer.Option(1, help="Seed of the synthetic data (same seed, same portal)."),
    rate_per_10s: int = typer.Option(100, "--rate-per-10s", min=0, help="Rolling 10-second budget (0: off)."),
    search_rate_per_s: int = typer.Option(5, "--search-rate-per-s", min=0, help="Search calls per second (0: off)."),
    search_lag_ms: int = typer.Option(0, "--search-lag-ms", min=0, help="How long writes take to reach search."),
    daily_limit: int = typer.Option(0, "--daily-limit", min=0, help="Calls per UTC day (0: off)."),
) -> None:
    """A HubSpot CRM v3 portal with synthetic contacts, owners and engagement."""
    config = HubSpotConfig(
        token=token,
        contacts=contacts,
        seed=seed,
        rate_per_10s=rate_per_10s,
        search_rate_per_s=search_rate_per_s,
        daily_limit=daily_limit,
        search_lag_ms=search_lag_ms,
    )
    server = HubSpotSandbox(config).server(host, port)
    env = {"HANDOFF_CRM": "hubspot", "HUBSPOT_ACCESS_TOKEN": token, "HUBSPOT_API_BASE": server.base_url}
    serve_until_signalled(server, announcement(server.base_url, token, env))


@app.command()
def salesforce(
    port: int = typer.Option(0, help="TCP port on 127.0.0.1 (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    token: str = typer.Option(DEFAULT_TOKEN, help="The only session id the org accepts (Authorization: Bearer)."),
    contacts: int = typer.Option(200, min=0, help="Synthetic people to seed (mostly Leads, some Contacts)."),
    seed: int = typer.Option(1, help="Seed of the synthetic data (same seed, same org)."),
    rate_per_10s: int = typer.Option(
        0, "--rate-per-10s", min=0, help="Accepted for symmetry with hubspot; Salesforce has no short window."
    ),
    daily_limit: int = typer.Option(
        DEFAULT_DAILY_LIMIT,
        "--daily-limit",
        min=1,
        help="API requests per rolling 24 hours (Sforce-Limit-Info's maximum).",
    ),
    lock_error_rate: float = typer.Option(
        0.0, "--lock-error-rate", min=0.0, max=1.0, help="Share of collection items failing with UNABLE_TO_LOCK_ROW."
    ),
    custom_fields: bool = typer.Option(
        True,
        "--custom-fields/--no-custom-fields",
        help="Create the Handoff custom fields (off shows the adapter's start-up error).",
    ),
    assignment_rule: bool = typer.Option(
        True, "--assignment-rule/--no-assignment-rule", help="Reassign Leads written without Sforce-Auto-Assign: FALSE."
    ),
) -> None:
    """A Salesforce org over HTTPS (throwaway CA) with synthetic leads, campaigns and activities."""
    config = SalesforceConfig(
        token=token,
        contacts=contacts,
        seed=seed,
        daily_limit=daily_limit,
        custom_fields=custom_fields,
        lock_error_rate=lock_error_rate,
        assignment_rule=assignment_rule,
    )
    sandbox = SalesforceSandbox(config)
    server = sandbox.server(host, port)
    env = {
        "HANDOFF_CRM": "salesforce",
        "SALESFORCE_INSTANCE_URL": server.base_url,
        "SALESFORCE_SESSION_ID": token,
        "SALESFORCE_CA_BUNDLE": str(sandbox.ca_path),
    }
    try:
        serve_until_signalled(server, announcement(server.base_url, token, env, f" ca={sandbox.ca_path}"))
    finally:
        sandbox.close()


if __name__ == "__main__":
    app()
