"""Demo certificates: the demo's verifications with data, signed off by three people, get signed DCCs
(no other record may carry one), and the log shows the whole life of a certificate — issued, one
withdrawn, one superseded by a re-issue — when there are three to show it on."""

from __future__ import annotations

from dataclasses import dataclass

from jiliang.domain.access import SYSTEM
from jiliang.services import certificates
from jiliang.services.platform import Platform


@dataclass(frozen=True)
class DemoCertificates:
    issued: int
    withdrawn: str  # "" when the demo had too few verifications with data to show it
    superseded: str
    replacement: str


def issue_demo_certificates(platform: Platform, record_ids: list[int]) -> DemoCertificates:
    numbers = [certificates.issue(platform, SYSTEM, rid).number for rid in record_ids]
    if len(numbers) < 3:
        return DemoCertificates(len(numbers), "", "", "")
    withdrawn, superseded = numbers[1], numbers[2]
    certificates.withdraw(
        platform, SYSTEM, withdrawn, "客户送检信息登记错误，证书作废 / customer details were recorded wrongly"
    )
    replacement = certificates.issue(
        platform, SYSTEM, record_ids[2], number=f"{superseded}-R1", supersedes=superseded
    ).number
    return DemoCertificates(len(numbers) + 1, withdrawn, superseded, replacement)
