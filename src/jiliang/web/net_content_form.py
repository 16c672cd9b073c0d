"""The net-content fields one form model serves to the public calculator and the inspector's console form.

Both pages take the same nine fields as text (so a refused form shows back what was typed) and turn them
into the dictionary ``services.market.calculator.check`` and ``services.market.results.record_net_content``
read; the lot size is the one field checked here, because the services take it as a number.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from jiliang.errors import InvalidInput


def numbers(text: str) -> list[str]:
    """The values of a pasted sample: separated by spaces, commas, semicolons or 、 (Chinese or ASCII)."""
    return [v for v in re.split(r"[\s,，;；、]+", text.strip()) if v]


class NetContentFields(BaseModel):
    ruleset: str = Field("", max_length=30)
    nominal: str = Field("", max_length=30)
    unit: str = Field("", max_length=20)
    lot_size: str = Field("", max_length=12)
    measurements: str = Field("", max_length=20000)
    measurement_unit: str = Field("", max_length=20)
    tares: str = Field("", max_length=20000)
    method: str = Field("non_destructive", max_length=20)
    drained: str = Field("", max_length=5)

    def shown(self) -> dict[str, Any]:
        """The fields as the form shows them again."""
        return {**self.model_dump(), "drained": bool(self.drained)}

    def data(self) -> dict[str, Any]:
        """The fields as the services read them; a lot size that is not a whole number is refused here."""
        if not self.lot_size.strip().isdigit():
            raise InvalidInput("检验批量须为正整数 / lot_size must be a whole number", field="lot_size")
        return {
            "ruleset": self.ruleset or None,
            "nominal": self.nominal.strip(),
            "unit": self.unit.strip(),
            "lot_size": int(self.lot_size),
            "measurements": numbers(self.measurements),
            "measurement_unit": self.measurement_unit.strip() or None,
            "tares": numbers(self.tares) or None,
            "method": self.method,
            "drained": bool(self.drained),
        }
