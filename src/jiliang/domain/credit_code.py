"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters from a 31-symbol alphabet (no I, O, Z, S, V): registration authority, organisation kind,
the 6-digit region code, the 9-character organisation code, and a check character computed with
weights 3^i mod 31 (GB 32100-2015 §5 and Annex A).
"""

from __future__ import annotations

from jiliang.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, ...


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: object, field: str = "credit_code") -> str:
    """Return the normalised code, or refuse it naming the position and the expected check character."""
    if not isinstance(code, str):
        raise InvalidInput("统一社会信用代码必须是文本 / credit code must be text", field=field)
    norm = code.strip().upper()
    if len(norm) != 18:
        raise InvalidInput(
            f"统一社会信用代码应为 18 位，实为 {len(norm)} 位 / credit code must have 18 characters, "
            f"got {len(norm)}",
            field=field,
        )
    for pos, ch in enumerate(norm, start=1):
        if ch not in _VALUE:
            raise InvalidInput(
                f"第 {pos} 位字符 {ch!r} 不允许（GB 32100 不用 I、O、Z、S、V）/ character {ch!r} at "
                f"position {pos} is not in the GB 32100 alphabet",
                field=field,
                position=pos,
            )
    expected = check_character(norm[:17])
    if norm[17] != expected:
        raise InvalidInput(
            f"第 18 位校验码应为 {expected}，实为 {norm[17]} / check character at position 18 should "
            f"be {expected!r}, got {norm[17]!r}",
            field=field,
            position=18,
            expected=expected,
        )
    return norm


def make_credit_code(first17: str) -> str:
    """Complete a 17-character body with its check character (used by the demo and tests)."""
    body = first17.upper()
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise InvalidInput("需要 17 位有效字符 / need 17 valid characters", field="credit_code")
    return body + check_character(body)
