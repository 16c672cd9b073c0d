"""Demo certificates: the newest passing records of the demo city get signed DCCs, and the log shows
the whole life of a certificate — issued, one withdrawn, one superseded by a corrected one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services import certificates
from jiliang.services.platform import Platform
from jiliang.store.models import Certificate, VerificationRecord


@dataclass(frozen=True)
class DemoCertificates:
    issued: int
    withdrawn: str
    superseded: str
    replacement: str


def issue_demo_certificates(platform: Platform, count: int = 60) -> DemoCertificates:
    with platform.reading() as s:
        ids = list(
            s.scalars(
                select(VerificationRecord.id)
                .where(
                    VerificationRecord.conclusion == "pass",
                    VerificationRecord.superseded.is_(False),
                    ~VerificationRecord.id.in_(
                        select(Certificate.record_id).where(Certificate.record_id.is_not(None))
                    ),
                )
                .order_by(VerificationRecord.verified_on.desc(), VerificationRecord.id.desc())
                .limit(count)
            )
        )
    certificates.issue_many(platform, SYSTEM, ids)
    with platform.reading() as s:
        numbers = list(
            s.scalars(
                select(Certificate.number)
                .where(Certificate.record_id.in_(ids))
                .order_by(Certificate.id)
                .limit(2)
            )
        )
        record_of_second = s.scalar(select(Certificate.record_id).where(Certificate.number == numbers[1]))
    withdrawn, superseded = numbers[0], numbers[1]
    certificates.withdraw(
        platform, SYSTEM, withdrawn, "客户送检信息登记错误，证书作废 / customer details were recorded wrongly"
    )
    assert record_of_second is not None
    replacement = certificates.issue(
        platform, SYSTEM, record_of_second, number=f"{superseded}-R1", supersedes=superseded
    ).number
    return DemoCertificates(len(ids) + 1, withdrawn, superseded, replacement)
