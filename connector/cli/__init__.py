"""The ``handoff`` command: the typer app, the wiring of settings into parts, the demo."""

from connector.cli import learning  # noqa: F401  (registers backtest and calibrate on the app)
from connector.cli.app import app, main

__all__ = ["app", "main"]
