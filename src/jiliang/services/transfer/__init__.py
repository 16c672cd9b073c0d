"""Bulk import and export of instruments and verification records (CSV and XLSX)."""

from jiliang.services.transfer.base import ImportReport
from jiliang.services.transfer.instruments import import_instruments

__all__ = ["ImportReport", "import_instruments"]
