"""The funnel report: figures from qualification episodes (pure) and one self-contained HTML page."""

from connector.reporting.figures import ReportFigures, ReportOptions, build_figures
from connector.reporting.html import render_html

__all__ = ["ReportFigures", "ReportOptions", "build_figures", "render_html"]
