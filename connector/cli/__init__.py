"""The ``handoff`` command: the typer app, the wiring of settings into parts, the demo."""

from connector.cli.app import app, main

__all__ = ["app", "main"]
