"""Write config/scoring.schema.json, the JSON Schema editors use to check config/scoring.yaml.

Run it after changing the rules models (connector/scoring/rules.py, connector/policy/lifecycle.py):

    .venv/bin/python scripts/export_rules_schema.py
"""

from __future__ import annotations

from pathlib import Path

from connector.config.ruleset import json_schema_text

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "scoring.schema.json"


def main() -> None:
    SCHEMA_PATH.write_text(json_schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
