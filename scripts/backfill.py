#!/usr/bin/env python3
"""Rescore every contact and write the results (resumable; see README "Backfills and dry runs").

    .venv/bin/python scripts/backfill.py --dry-run            # plan only: CSV + summary, no CRM writes
    .venv/bin/python scripts/backfill.py --since 2026-01-01   # contacts modified since a date
    .venv/bin/python scripts/backfill.py                      # for real; rerun to resume after a kill

Configured by the same environment variables as the daemon.
"""

import sys

from connector.cli import app

if __name__ == "__main__":
    app(["backfill", *sys.argv[1:]], prog_name="scripts/backfill.py")
