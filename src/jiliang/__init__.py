"""jiliang 计量 — smart metrology supervision and service platform."""

__version__ = "0.1.0"
