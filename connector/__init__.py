"""Handoff: lead qualification that lives inside the CRM the sales team already uses."""

__version__ = "0.1.0"
