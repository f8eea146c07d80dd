"""Alert tests change the logging set-up to read what would be logged; each test gets the old one back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    handlers, level, httpx_level = list(root.handlers), root.level, httpx_logger.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    httpx_logger.setLevel(httpx_level)
    logging.getLogger("connector").setLevel(logging.NOTSET)
    logging.captureWarnings(False)
    structlog.reset_defaults()
