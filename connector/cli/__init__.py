"""The ``handoff`` command: the typer app, the wiring of settings into parts, the demo."""

from connector.cli import learning as _learning  # registers backtest and calibrate on the app
from connector.cli.app import app, main

__all__ = ["app", "main"]
