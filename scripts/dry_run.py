#!/usr/bin/env python3
"""Show what the next incremental sync would change, without writing anything to the CRM.

    .venv/bin/python scripts/dry_run.py          # summary + CSV of planned changes
    .venv/bin/python scripts/dry_run.py --json   # summary as JSON

Configured by the same environment variables as the daemon.
"""

import sys

from connector.cli import app

if __name__ == "__main__":
    app(["sync", "--once", "--dry-run", *sys.argv[1:]], prog_name="scripts/dry_run.py")
