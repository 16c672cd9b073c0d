"""Verification with its measurement data, signed off by three named people (检定员 → 核验员 → 批准人).

The verifier records the test points; the MPE at each point comes from the rule table (``legal.mpe``) for
the instrument's catalogue item, class and the kind of verification, or is given per point for items
without a rule; the conclusion follows from the data under the chosen decision rule (``legal.conformity``).
The checker then checks it and the approver approves it, each a different person registered as a
signatory of the institution with a qualification number. Only the approval writes the verification record
(``services.verifications.record_in``, the instrument's state follows in the same transaction), and only a
record can carry a certificate, whose DCC then carries the test points and the three people
(``services.dcc_records``). A checker or approver who disagrees returns it with a reason; the verifier
records it again under a new document number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import not_in_future, optional_text, parse_date, required_text
from jiliang.domain.verification import Conclusion
from jiliang.errors import Conflict, InvalidInput, NotAuthorised
from jiliang.legal import mpe as mpe_rules
from jiliang.legal.conformity import DecisionRule, Judgement, PointData, judge, parse_rule
from jiliang.legal.mpe import Mpe, Stage
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope, verifications
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.standards import is_authorised
from jiliang.store.models import (
    Certificate,
    Instrument,
    MeasuredVerification,
    Organisation,
    Signatory,
    User,
    VerificationRecord,
    VerificationTestPoint,
)

RECORDED, CHECKED, APPROVED, RETURNED = "recorded", "checked", "approved", "returned"
STATES = (RECORDED, CHECKED, APPROVED, RETURNED)
MAX_POINTS = 200
DEFAULT_K = Decimal(2)


# ---------------------------------------------------------------------------------------------------
# signatories


def register_signatory(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Signatory:
    """Register (or update) a user of an institution as a signatory with a qualification number.

    An administrator may do it for any institution's user; an institution only for its own users."""
    require_role(principal, Role.INSTITUTION)
    qualification = required_text(raw.get("qualification_no"), "qualification_no", 60)
    valid_until = parse_date(raw["valid_until"], "valid_until") if raw.get("valid_until") else None
    flags = {f: _flag(raw.get(f), f, default) for f, default in MAY.items()}
    if not any(flags.values()):
        raise InvalidInput("至少选择一种签字职责 / choose at least one role", field="may_verify")
    with platform.unit_of_work(principal) as s:
        user = s.scalar(select(User).where(User.username == str(raw.get("username") or "")))
        if user is None or user.role != Role.INSTITUTION.value or user.organisation_id is None:
            raise InvalidInput(
                "须为检定机构的用户 / the user must be an institution's account", field="username"
            )
        if principal.role is Role.INSTITUTION and user.organisation_id != principal.organisation_id:
            raise not_found("user", raw.get("username"))
        row = s.scalar(select(Signatory).where(Signatory.user_id == user.id))
        if row is None:
            row = Signatory(user_id=user.id, institution_id=user.organisation_id)
            s.add(row)
        row.name = optional_text(raw.get("name"), "name", 100) or user.display_name or user.username
        row.qualification_no = qualification
        row.may_verify, row.may_check, row.may_approve = (
            flags["may_verify"],
            flags["may_check"],
            flags["may_approve"],
        )
        row.valid_until = valid_until
        row.active = True
        s.flush()
        return row


MAY = {"may_verify": True, "may_check": False, "may_approve": False}


def _flag(value: object, field: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("0", "false", "no", "off", "否"):
        return False
    raise InvalidInput(f"{field} 须为是/否 / {field} must be true or false", field=field)


def list_signatories(platform: Platform, principal: Principal) -> list[Signatory]:
    require_role(principal, Role.INSTITUTION)
    stmt = select(Signatory).where(Signatory.active.is_(True)).order_by(Signatory.id)
    if principal.role is Role.INSTITUTION:
        stmt = stmt.where(Signatory.institution_id == (principal.organisation_id or -1))
    with platform.reading() as s:
        return list(s.scalars(stmt))


def _signatory(s: Session, principal: Principal, duty: str, today: date) -> Signatory:
    labels = {
        "may_verify": "检定员 / verifier",
        "may_check": "核验员 / checker",
        "may_approve": "批准人 / approver",
    }
    row = (
        s.scalar(select(Signatory).where(Signatory.user_id == principal.user_id))
        if principal.user_id is not None
        else None
    )
    if (
        row is None
        or not row.active
        or row.institution_id != principal.organisation_id
        or not getattr(row, duty)
        or (row.valid_until is not None and row.valid_until < today)
    ):
        raise NotAuthorised(
            f"您未登记为本机构有效的{labels[duty]}（须有资格证号）/ you are not a registered {labels[duty]} "
            "of this institution with a valid qualification",
            field="signatory",
        )
    return row


# ---------------------------------------------------------------------------------------------------
# evaluation (no storage): what the form shows live and what ``record`` stores


@dataclass(frozen=True)
class PointInput:
    label: str
    zone: str
    unit: str
    nominal: Decimal
    indications: tuple[Decimal, ...]
    uncertainty: Decimal | None
    coverage_factor: Decimal
    given_lower: Decimal | None
    given_upper: Decimal | None


@dataclass(frozen=True)
class EvaluatedPoint:
    seq: int
    point: PointInput
    mpe: Mpe
    error: Decimal
    passed: bool
    accept_lower: Decimal
    accept_upper: Decimal
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Inspection:
    label: str
    passed: bool


@dataclass(frozen=True)
class Evaluation:
    rule: str  # the MPE rule of the item (legal.mpe), "generic" when given per point
    accuracy_class: str
    stage: Stage
    decision_rule: DecisionRule
    scale_interval: Decimal | None
    points: tuple[EvaluatedPoint, ...]
    inspections: tuple[Inspection, ...]
    judgement: Judgement

    @property
    def conclusion(self) -> Conclusion:
        return Conclusion.PASS if self.judgement.passed else Conclusion.FAIL


def _decimal(value: object, field: str, *, required: bool = True) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} 不能为空 / {field} is required", field=field)
        return None
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} 须为数字：{value!r} / {field} must be a number", field=field) from None
    # Digits as a verifier writes them: at most 20 characters, magnitudes within 10^±12 (so that every
    # stored value, error and MPE stays a short plain decimal).
    if not out.is_finite() or len(str(value).strip()) > 20 or (out != 0 and not -12 <= out.adjusted() <= 12):
        raise InvalidInput(
            f"{field} 须为 20 位以内、量级在 10^±12 之内的有限数 / {field} must be a finite number of at most "
            "20 characters within 10^±12",
            field=field,
        )
    return out


def _indications(value: object, field: str) -> tuple[Decimal, ...]:
    parts = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
    out = tuple(d for d in (_decimal(p, field) for p in parts) if d is not None)
    if not out or len(out) > 20:
        raise InvalidInput(f"{field}：须有 1–20 个示值 / 1–20 indications", field=field)
    return out


def _points(raw: object) -> list[PointInput]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(
            "检定须有测量数据（至少一个检定点）/ a verification needs measured data (at least one test point)",
            field="points",
        )
    if len(raw) > MAX_POINTS:
        raise InvalidInput(f"检定点至多 {MAX_POINTS} 个 / at most {MAX_POINTS} points", field="points")
    out = []
    for i, p in enumerate(raw, start=1):
        if not isinstance(p, dict):
            raise InvalidInput(f"第 {i} 点格式无效 / point {i} is malformed", field="points")
        f = f"points[{i}]"
        nominal = _decimal(p.get("nominal"), f"{f}.nominal")
        assert nominal is not None
        k = _decimal(p.get("coverage_factor"), f"{f}.coverage_factor", required=False) or DEFAULT_K
        out.append(
            PointInput(
                label=optional_text(p.get("label"), f"{f}.label", 200),
                zone=optional_text(p.get("zone"), f"{f}.zone", 20),
                unit=optional_text(p.get("unit"), f"{f}.unit", 20),
                nominal=nominal,
                indications=_indications(p.get("indications"), f"{f}.indications"),
                uncertainty=_decimal(p.get("uncertainty"), f"{f}.uncertainty", required=False),
                coverage_factor=k,
                given_lower=_decimal(p.get("mpe_lower"), f"{f}.mpe_lower", required=False),
                given_upper=_decimal(p.get("mpe_upper"), f"{f}.mpe_upper", required=False),
            )
        )
    return out


def _inspections(raw: object) -> list[Inspection]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise InvalidInput("检查项目格式无效 / inspections must be a list", field="inspections")
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"第 {i} 项检查格式无效 / inspection {i} is malformed", field="inspections")
        out.append(
            Inspection(
                required_text(item.get("label"), f"inspections[{i}].label", 200),
                _flag(item.get("passed"), f"inspections[{i}].passed", False),
            )
        )
    return out


def parse_stage(value: object) -> Stage:
    try:
        return Stage(str(value or "subsequent").strip())
    except ValueError:
        raise InvalidInput(
            "检定类别须为 initial（首次）、subsequent（后续）或 in_service（使用中检查）/ stage must be initial, "
            "subsequent or in_service",
            field="stage",
        ) from None


def evaluate(item_code: str, instrument_class: str, raw: dict[str, Any]) -> Evaluation:
    """The MPE at every point and the conclusion, from the data alone (pure: nothing read or stored)."""
    rule = mpe_rules.rule_for_item(item_code)
    stage = parse_stage(raw.get("stage"))
    decision = parse_rule(raw.get("decision_rule"))
    accuracy_class = str(raw.get("accuracy_class") or instrument_class or "").strip()
    if rule != mpe_rules.GENERIC and mpe_rules.classes_for(rule):
        accuracy_class = mpe_rules.normalise_class(rule, accuracy_class)
    e = _decimal(raw.get("scale_interval"), "scale_interval", required=False)
    points = _points(raw.get("points"))
    inspections = _inspections(raw.get("inspections"))
    limits = []
    for i, p in enumerate(points, start=1):
        try:
            if rule == mpe_rules.GENERIC:
                if p.given_lower is None and p.given_upper is None:
                    raise InvalidInput(
                        f"第 {i} 点须给出最大允许误差（本目录项无规则）/ point {i} needs its MPE (no rule for the item)",
                        field=f"points[{i}].mpe_upper",
                    )
                upper = p.given_upper if p.given_upper is not None else -(p.given_lower or Decimal(0))
                lower = p.given_lower if p.given_lower is not None else -upper
                limits.append(mpe_rules.given(lower, upper))
            else:
                limits.append(
                    mpe_rules.mpe_at(
                        item_code, accuracy_class, stage, p.nominal, p.unit, zone=p.zone, scale_interval=e
                    )
                )
        except InvalidInput as exc:
            if exc.field and exc.field.startswith("points["):
                raise
            raise InvalidInput(
                f"第 {i} 点 / point {i}: {exc.message}", field=f"points[{i}].{exc.field}"
            ) from None
    data = [
        PointData(p.nominal, p.indications, m, p.uncertainty) for p, m in zip(points, limits, strict=True)
    ]
    judgement = judge(data, [x.passed for x in inspections], decision)
    evaluated = tuple(
        EvaluatedPoint(i, p, m, o.error, o.passed, o.accept_lower, o.accept_upper, o.warnings)
        for i, (p, m, o) in enumerate(zip(points, limits, judgement.points, strict=True), start=1)
    )
    return Evaluation(rule, accuracy_class, stage, decision, e, evaluated, tuple(inspections), judgement)


def preview(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Evaluation:
    """The evaluation of a form before it is recorded, for an instrument the caller may verify."""
    require_role(principal, Role.INSTITUTION)
    with platform.reading() as s:
        inst = _instrument(s, principal, raw.get("instrument_id"))
        return evaluate(inst.item_code, inst.accuracy_class, raw)


def _instrument(s: Session, principal: Principal, value: object) -> Instrument:
    try:
        iid = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(
            "instrument_id 必须是整数编号 / instrument_id must be an integer id", field="instrument_id"
        ) from None
    stmt = scope.instruments(select(Instrument).where(Instrument.id == iid), principal)
    inst: Instrument | None = s.scalars(stmt).first()
    if inst is None:
        raise not_found("instrument", iid)
    return inst


# ---------------------------------------------------------------------------------------------------
# the three steps


def record(platform: Platform, principal: Principal, raw: dict[str, Any]) -> MeasuredVerification:
    """Step 1, the verifier (检定员): the data and the conclusion that follows from it."""
    require_role(principal, Role.INSTITUTION)
    if principal.role is not Role.INSTITUTION or principal.organisation_id is None:
        raise NotAuthorised("须以检定机构账户记录 / record as an institution's account", field="signatory")
    today = platform.local_today()
    verified_on = not_in_future(  # the day as typed (Asia/Shanghai)
        parse_date(raw.get("verified_on"), "verified_on"), platform.local_today(), "verified_on"
    )
    document_no = required_text(raw.get("document_no"), "document_no", 100)
    remarks = optional_text(raw.get("remarks"), "remarks", 2000)
    with platform.unit_of_work(principal) as s:
        inst = _instrument(s, principal, raw.get("instrument_id"))  # outside the area: not found, first
        verifier = _signatory(s, principal, "may_verify", today)
        institution_id = principal.organisation_id
        if not is_authorised(s, institution_id, inst.item_code, inst.region_code, verified_on):
            raise NotAuthorised(
                f"机构未获 {inst.item_code} 在 {inst.region_code} 的授权 / the institution is not authorised for "
                "this item in this region on that date",
                field="instrument_id",
            )
        ev = evaluate(inst.item_code, inst.accuracy_class, raw)
        if s.scalar(
            select(MeasuredVerification.id).where(
                MeasuredVerification.institution_id == institution_id,
                MeasuredVerification.document_no == document_no,
            )
        ) or s.scalar(
            select(VerificationRecord.id).where(
                VerificationRecord.institution_id == institution_id,
                VerificationRecord.document_no == document_no,
            )
        ):
            raise Conflict(
                f"证书编号 {document_no} 已使用 / document number already used", field="document_no"
            )
        standard_id = raw.get("standard_id") or None
        if standard_id is not None:
            # the same checks as the record will make at approval, made now so the verifier learns early
            verifications._standard(s, standard_id, institution_id, inst.item_code, verified_on)
        row = MeasuredVerification(
            institution_id=institution_id,
            instrument_id=inst.id,
            standard_id=int(standard_id) if standard_id is not None else None,
            verified_on=verified_on,
            document_no=document_no,
            stage=ev.stage.value,
            accuracy_class=ev.accuracy_class[:50],
            scale_interval=_text(ev.scale_interval),
            mpe_rule=ev.rule,
            decision_rule=ev.decision_rule.value,
            conclusion=ev.conclusion.value,
            warnings="\n".join(ev.judgement.warnings),
            state=RECORDED,
            remarks=remarks,
            return_reason="",
            verifier_id=verifier.id,
            recorded_at=platform.now(),
        )
        s.add(row)
        s.flush()
        for p in ev.points:
            s.add(
                VerificationTestPoint(
                    verification_id=row.id,
                    seq=p.seq,
                    kind="measured",
                    label=p.point.label,
                    zone=p.point.zone,
                    unit=p.point.unit,
                    nominal=_text(p.point.nominal),
                    indications=" ".join(_text(x) for x in p.point.indications),
                    error=_text(p.error),
                    mpe_lower=_text(p.mpe.lower),
                    mpe_upper=_text(p.mpe.upper),
                    mpe_basis=p.mpe.basis[:200],
                    mpe_evidence=p.mpe.row.evidence if p.mpe.row else "given",
                    uncertainty=_text(p.point.uncertainty),
                    coverage_factor=_text(p.point.coverage_factor) if p.point.uncertainty is not None else "",
                    passed=p.passed,
                )
            )
        for j, item in enumerate(ev.inspections, start=len(ev.points) + 1):
            s.add(
                VerificationTestPoint(
                    verification_id=row.id, seq=j, kind="inspection", label=item.label, passed=item.passed
                )
            )
        return row


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _mine(s: Session, principal: Principal, verification_id: int) -> MeasuredVerification:
    row = s.get(MeasuredVerification, verification_id)
    if row is None or (
        principal.role is Role.INSTITUTION and row.institution_id != principal.organisation_id
    ):
        raise not_found("measured verification", verification_id)
    return row


def check(
    platform: Platform, principal: Principal, verification_id: int, *, accept: bool = True, reason: str = ""
) -> MeasuredVerification:
    """Step 2, the checker (核验员): a different person from the verifier."""
    require_role(principal, Role.INSTITUTION)
    with platform.unit_of_work(principal) as s:
        row = _mine(s, principal, verification_id)
        checker = _signatory(s, principal, "may_check", platform.local_today())
        _expect(row, RECORDED)
        if checker.id == row.verifier_id:
            raise NotAuthorised(
                "核验员不能核验自己记录的检定 / the checker must not be the verifier", field="signatory"
            )
        row.checker_id, row.checked_at = checker.id, platform.now()
        _decide(row, CHECKED, accept, reason)
        return row


def approve(
    platform: Platform, principal: Principal, verification_id: int, *, accept: bool = True, reason: str = ""
) -> MeasuredVerification:
    """Step 3, the approver (批准人): a third person; the verification record is written now."""
    require_role(principal, Role.INSTITUTION)
    items = catalogue_service.catalogue(platform)
    version = catalogue_service.active_version(platform)
    with platform.unit_of_work(principal) as s:
        row = _mine(s, principal, verification_id)
        approver = _signatory(s, principal, "may_approve", platform.local_today())
        _expect(row, CHECKED)
        if approver.id in (row.verifier_id, row.checker_id):
            raise NotAuthorised(
                "批准人须不同于检定员和核验员 / the approver must be neither the verifier nor the checker",
                field="signatory",
            )
        row.approver_id, row.approved_at = approver.id, platform.now()
        _decide(row, APPROVED, accept, reason)
        if accept:
            rec = verifications.record_in(
                s,
                platform,
                principal,
                {"instrument_id": row.instrument_id, "standard_id": row.standard_id, "remarks": row.remarks},
                row.verified_on,
                Conclusion(row.conclusion),
                row.document_no,
                row.institution_id,
                items,
                version,
            )
            row.record_id = rec.id
        return row


def _expect(row: MeasuredVerification, state: str) -> None:
    if row.state != state:
        raise Conflict(
            f"该检定当前为「{STATE_LABELS[row.state][0]}」，不能进行此步 / the verification is {row.state}",
            field="state",
        )


def _decide(row: MeasuredVerification, state: str, accept: bool, reason: str) -> None:
    if accept:
        row.state = state
        return
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput(
            "退回须说明原因（1–500 字）/ returning needs a reason (1–500 characters)", field="reason"
        )
    row.state, row.return_reason = RETURNED, reason


STATE_LABELS = {
    RECORDED: ("待核验", "to check"),
    CHECKED: ("待批准", "to approve"),
    APPROVED: ("已批准", "approved"),
    RETURNED: ("已退回", "returned"),
}


# ---------------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class Person:
    duty: str  # verifier | checker | approver
    name: str
    qualification_no: str
    at: datetime | None


@dataclass(frozen=True)
class VerificationView:
    id: int
    institution_id: int
    institution_name: str
    instrument_id: int
    instrument_name: str
    serial_number: str
    item_code: str
    owner_name: str
    verified_on: date
    document_no: str
    stage: str
    accuracy_class: str
    scale_interval: str
    mpe_rule: str
    decision_rule: str
    conclusion: str
    warnings: tuple[str, ...]
    state: str
    remarks: str
    return_reason: str
    persons: tuple[Person, ...]
    points: tuple[VerificationTestPoint, ...]  # measured points, then inspection items
    record_id: int | None
    due_on: date | None
    certificate_number: str | None  # the valid certificate issued for the approved record, if any


def _visible(principal: Principal, row: MeasuredVerification, inst: Instrument) -> bool:
    if principal.role is Role.ADMINISTRATOR:
        return True
    if principal.role is Role.INSTITUTION:
        return row.institution_id == principal.organisation_id
    if principal.role is Role.SUPERVISOR:
        return principal.sees_region(inst.region_code)
    return False


def view_in(s: Session, row: MeasuredVerification) -> VerificationView:
    inst = s.get(Instrument, row.instrument_id)
    lab = s.get(Organisation, row.institution_id)
    assert inst is not None and lab is not None
    owner = s.get(Organisation, inst.owner_id) if inst.owner_id else None
    persons = []
    for duty, sid, at in (
        ("verifier", row.verifier_id, row.recorded_at),
        ("checker", row.checker_id, row.checked_at),
        ("approver", row.approver_id, row.approved_at),
    ):
        sig = s.get(Signatory, sid) if sid else None
        if sig is not None:
            persons.append(Person(duty, sig.name, sig.qualification_no, at))
    points = tuple(
        s.scalars(
            select(VerificationTestPoint)
            .where(VerificationTestPoint.verification_id == row.id)
            .order_by(VerificationTestPoint.seq)
        )
    )
    rec = s.get(VerificationRecord, row.record_id) if row.record_id else None
    return VerificationView(
        id=row.id,
        institution_id=row.institution_id,
        institution_name=lab.name,
        instrument_id=inst.id,
        instrument_name=inst.name,
        serial_number=inst.serial_number,
        item_code=inst.item_code,
        owner_name=owner.name if owner else "",
        verified_on=row.verified_on,
        document_no=row.document_no,
        stage=row.stage,
        accuracy_class=row.accuracy_class,
        scale_interval=row.scale_interval,
        mpe_rule=row.mpe_rule,
        decision_rule=row.decision_rule,
        conclusion=row.conclusion,
        warnings=tuple(w for w in row.warnings.split("\n") if w),
        state=row.state,
        remarks=row.remarks,
        return_reason=row.return_reason,
        persons=tuple(persons),
        points=points,
        record_id=row.record_id,
        due_on=rec.due_on if rec else None,
        certificate_number=s.scalar(
            select(Certificate.number).where(
                Certificate.record_id == row.record_id, Certificate.status == "valid"
            )
        )
        if row.record_id
        else None,
    )


def get(platform: Platform, principal: Principal, verification_id: int) -> VerificationView:
    with platform.reading() as s:
        row = s.get(MeasuredVerification, verification_id)
        inst = s.get(Instrument, row.instrument_id) if row else None
        if row is None or inst is None or not _visible(principal, row, inst):
            raise not_found("measured verification", verification_id)
        return view_in(s, row)


def of_record(platform: Platform, principal: Principal, record_id: int) -> VerificationView | None:
    """The measured data behind a verification record the caller may see (the supervisor's page); None for
    a record without data; a record outside the caller's reach answers not found."""
    with platform.reading() as s:
        rec = s.scalars(
            scope.verification_records(
                select(VerificationRecord).where(VerificationRecord.id == record_id), principal
            )
        ).first()
        if rec is None:
            raise not_found("verification record", record_id)
        row = s.scalar(select(MeasuredVerification).where(MeasuredVerification.record_id == record_id))
        if row is None:
            return None
        inst = s.get(Instrument, row.instrument_id)
        if inst is None or not _visible(principal, row, inst):
            raise not_found("verification record", record_id)
        return view_in(s, row)


def for_record(s: Session, record_id: int) -> VerificationView | None:
    """The measured data behind a verification record, for its certificate (None for a bare record)."""
    row = s.scalar(select(MeasuredVerification).where(MeasuredVerification.record_id == record_id))
    return view_in(s, row) if row is not None else None


def awaiting_certificate(
    platform: Platform, principal: Principal, limit: int = 100
) -> list[VerificationView]:
    """Approved verifications whose record has no valid certificate yet, oldest first."""
    require_role(principal, Role.INSTITUTION)
    issued = select(Certificate.record_id).where(
        Certificate.record_id == MeasuredVerification.record_id, Certificate.status == "valid"
    )
    stmt = (
        select(MeasuredVerification)
        .where(MeasuredVerification.state == APPROVED, ~issued.exists())
        .order_by(MeasuredVerification.id)
        .limit(min(limit, 500))
    )
    if principal.role is Role.INSTITUTION:
        stmt = stmt.where(MeasuredVerification.institution_id == (principal.organisation_id or -1))
    with platform.reading() as s:
        return [view_in(s, row) for row in s.scalars(stmt)]


def queue(
    platform: Platform,
    principal: Principal,
    states: Sequence[str] = (RECORDED, CHECKED),
    limit: int = 100,
    *,
    newest_first: bool = False,
) -> list[VerificationView]:
    """The institution's verifications in these states, oldest first (the sign-off queue)."""
    require_role(principal, Role.INSTITUTION)
    for st in states:
        if st not in STATES:
            raise InvalidInput(f"状态 {st!r} 无效 / unknown state", field="state")
    stmt = (
        select(MeasuredVerification)
        .where(MeasuredVerification.state.in_(list(states)))
        .order_by(MeasuredVerification.id.desc() if newest_first else MeasuredVerification.id)
        .limit(min(limit, 500))
    )
    if principal.role is Role.INSTITUTION:
        stmt = stmt.where(MeasuredVerification.institution_id == (principal.organisation_id or -1))
    with platform.reading() as s:
        return [view_in(s, row) for row in s.scalars(stmt)]
