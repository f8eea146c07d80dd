"""One file per schema revision, oldest first by ``down_revision``."""
