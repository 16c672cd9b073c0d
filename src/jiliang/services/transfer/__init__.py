"""Bulk import and export of instruments and verification records (CSV and XLSX)."""

from jiliang.services.transfer.base import ImportReport
from jiliang.services.transfer.instruments import import_instruments
from jiliang.services.transfer.verifications import import_verifications

__all__ = ["ImportReport", "import_instruments", "import_verifications"]
