"""Numeric engines of measurement science: uncertainty (GUM, GUM-S1), traceability, comparisons.

Pure: NumPy/SciPy/pint only; never the store, the services or the web.
"""
