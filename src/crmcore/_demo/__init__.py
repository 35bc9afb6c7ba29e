"""Sections of the ``python -m crmcore demo`` report, one module per business area.

Each module has ``section(seed: int) -> str``: it builds synthetic data with
:mod:`crmcore.datasets`, calls the public API and returns readable text. Only the command line
imports this package; the core never does.
"""
