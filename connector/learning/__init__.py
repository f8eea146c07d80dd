"""Learning from outcomes: labelled leads, backtests of a rules change, and calibrated rules files.

Pure where it can be: leads and rules in, figures and a proposed rules file out. The one module
that reads anything is :mod:`connector.learning.sources` (labelled leads from a file, or from
the state store through :mod:`connector.learning.episodes`).
"""
