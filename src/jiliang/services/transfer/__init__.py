"""Bulk import and export of instruments and verification records (CSV and XLSX).

The CLI (`jiliang import/export`) and the API (api/routers/transfer.py) call these four functions.
"""

from jiliang.services.transfer.base import ImportReport
from jiliang.services.transfer.export import export_instruments, export_verifications
from jiliang.services.transfer.instruments import import_instruments
from jiliang.services.transfer.verifications import import_verifications

__all__ = [
    "ImportReport",
    "export_instruments",
    "export_verifications",
    "import_instruments",
    "import_verifications",
]
