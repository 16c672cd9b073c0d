"""A verification record as a digital calibration certificate: the registry's fields mapped to DCC elements.

docs/dcc.md lists the mapping field by field. A verification record (检定记录) carries a conclusion; when it was
approved from measured data (``services.measured_verifications``) the certificate carries each test point
(nominal value, indications, error with its expanded uncertainty, MPE, pass/fail) and the three people who
signed it off, with their qualification numbers. The certificate states the conclusion as a statement of
conformity and as a result with the instrument's maximum permissible error (a D-SI quantity when the
registry's text is a number with a known unit) or its accuracy class. Numeric results from a calibration can be passed in as
``measured`` and are written as D-SI quantities with their expanded uncertainties.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang import __version__
from jiliang.domain.verification import Conclusion
from jiliang.errors import InvalidInput
from jiliang.legal.conformity import RULE_LABELS as DECISION_LABELS
from jiliang.legal.conformity import DecisionRule
from jiliang.legal.mpe import STAGE_LABELS, Stage
from jiliang.services import measured_verifications
from jiliang.services.common import not_found
from jiliang.services.measured_verifications import VerificationView
from jiliang.store.models import (
    AuditEntry,
    CatalogueItemRow,
    Instrument,
    MeasurementStandard,
    Organisation,
    Region,
    VerificationRecord,
)
from jiliang.trust import dcc, dsi
from jiliang.trust.dcc_model import (
    Contact,
    CoreData,
    DccCertificate,
    ExpandedUncertainty,
    Identification,
    Item,
    Laboratory,
    Location,
    MeasurementResult,
    MeasuringEquipment,
    Quantity,
    RealQuantity,
    RespPerson,
    Result,
    Software,
    Statement,
    Text,
    UsedMethod,
)

COUNTRY = "CN"
CONCLUSION_TEXT = {
    Conclusion.PASS.value: Text.of("合格", "pass"),
    Conclusion.FAIL.value: Text.of("不合格", "fail"),
}


def certificate_for_record(
    session: Session,
    record_id: int,
    number: str,
    issued: date,
    *,
    measured: Sequence[Quantity] = (),
) -> DccCertificate:
    """The certificate numbered ``number``, issued on ``issued``, for one verification record.

    A pure read: the caller (the issuing service) decides who may issue it and records the issue."""
    record = session.get(VerificationRecord, record_id)
    if record is None:
        raise not_found("verification record", record_id)
    inst = session.get(Instrument, record.instrument_id)
    lab = session.get(Organisation, record.institution_id)
    if inst is None or lab is None:  # pragma: no cover - foreign keys
        raise not_found("verification record", record_id)
    owner = session.get(Organisation, inst.owner_id)
    if owner is None:  # pragma: no cover - foreign key
        raise not_found("organisation", inst.owner_id)
    standard = session.get(MeasurementStandard, record.standard_id) if record.standard_id else None
    data = measured_verifications.for_record(session, record.id)
    item_row = session.scalars(
        select(CatalogueItemRow).where(
            CatalogueItemRow.version == record.catalogue_version, CatalogueItemRow.item_code == inst.item_code
        )
    ).first()

    core = CoreData(
        country=COUNTRY,
        used_languages=("zh", "en"),
        mandatory_languages=("zh",),
        unique_identifier=number,
        begin_performance=record.verified_on,
        end_performance=record.verified_on,
        # The registry does not record whether the work was done in the laboratory or on site.
        performance_location="other",
        identifications=(
            Identification(
                "calibrationLaboratory",
                record.document_no,
                Text.of("检定记录编号", "verification record number"),
                "jiliang_documentNo",
            ),
            Identification(
                "calibrationLaboratory",
                lab.credit_code,
                Text.of("检定机构统一社会信用代码", "unified social credit code of the laboratory"),
                "jiliang_creditCode",
            ),
            Identification(
                "customer",
                owner.credit_code,
                Text.of("使用单位统一社会信用代码", "unified social credit code of the customer"),
                "jiliang_customerCreditCode",
            ),
            Identification(
                "other", str(record.id), Text.of("平台检定记录号", "jiliang record id"), "jiliang_recordId"
            ),
        ),
        issue_date=issued,
    )
    return DccCertificate(
        software=(Software("jiliang", __version__),),
        core=core,
        items=(_item(inst, item_row),),
        laboratory=Laboratory(contact=_contact(session, lab), code=lab.credit_code),
        customer=_contact(session, owner),
        resp_persons=_signatories(data) if data else (_responsible(session, record, lab),),
        measurement_results=(_results(record, inst, standard, measured, _test_points(data)),),
        statements=_statements(session, record, data),
    )


def read_certificate(xml: bytes) -> tuple[str, DccCertificate]:
    """A DCC from outside (any release 3.0.0–3.2.0): validated against its schema, then read.

    Refusals are ``dcc.DccInvalid`` with the schema's message, line and XPath (``PayloadTooLarge`` over
    ``dcc.MAX_BYTES``); nothing is stored.
    """
    cert = dcc.parse(xml)  # validates against the release it names, which it records as schema_version
    return cert.schema_version, cert


def _region_name(session: Session, code: str) -> str | None:
    region = session.get(Region, code)
    return region.name_zh if region else None


def _contact(session: Session, org: Organisation) -> Contact:
    return Contact(
        name=Text.plain(org.name),
        location=Location(
            city=_region_name(session, org.region_code),
            country_code=COUNTRY,
            post_code=None,
            further=(org.address,) if org.address.strip() else (),
        ),
    )


def _item(inst: Instrument, row: CatalogueItemRow | None) -> Item:
    ids = [
        Identification(
            "manufacturer", inst.serial_number, Text.of("出厂编号", "serial number"), "jiliang_serialNumber"
        ),
        Identification(
            "other", str(inst.id), Text.of("器具登记号", "jiliang instrument id"), "jiliang_instrumentId"
        ),
        Identification(
            "other", inst.item_code, Text.of("强检目录项", "catalogue item"), "jiliang_catalogueItem"
        ),
    ]
    if inst.pattern_approval_no.strip():
        ids.append(
            Identification(
                "other",
                inst.pattern_approval_no,
                Text.of("型式批准证书编号", "pattern approval number"),
                "jiliang_patternApproval",
            )
        )
    quantities: list[Quantity] = []
    if inst.measuring_range.strip():
        parsed = dsi.parse_range(inst.measuring_range)
        if parsed:
            low, high, unit = parsed
            quantities += [
                Quantity(
                    Text.of("测量范围下限", "measuring range, lower limit"),
                    (RealQuantity(low, unit),),
                    ref_type="jiliang_measuringRangeMin",
                ),
                Quantity(
                    Text.of("测量范围上限", "measuring range, upper limit"),
                    (RealQuantity(high, unit),),
                    ref_type="jiliang_measuringRangeMax",
                ),
            ]
        else:
            quantities.append(
                Quantity(
                    Text.of("测量范围", "measuring range"),
                    text=Text.plain(inst.measuring_range),
                    ref_type="jiliang_measuringRange",
                )
            )
    return Item(
        name=Text.of(inst.name, row.level2_en if row else None),
        manufacturer=inst.manufacturer,
        model=inst.model,
        identifications=tuple(ids),
        quantities=tuple(quantities),
    )


def _responsible(session: Session, record: VerificationRecord, lab: Organisation) -> RespPerson:
    """Who recorded the result, from the audit trail; the laboratory's contact when the trail has nobody."""
    actor = session.scalars(
        select(AuditEntry.actor_name).where(
            AuditEntry.object_type == "verification_records",
            AuditEntry.object_id == str(record.id),
            AuditEntry.action == "create",
        )
    ).first()
    if actor and actor != "system":
        return RespPerson(actor, role="检定员 / verifier (recorded the result)", main_signer=True)
    name = lab.contact.strip() or lab.name
    return RespPerson(name, role="检定机构 / calibration laboratory", main_signer=True)


def _conclusion_quantity(record: VerificationRecord) -> Quantity:
    return Quantity(
        Text.of("检定结论", "verification conclusion"),
        text=CONCLUSION_TEXT[record.conclusion],
        ref_type="basic_conformity",
        conformity=(record.conclusion,),
    )


def _mpe_quantity(inst: Instrument) -> Quantity | None:
    accuracy = inst.accuracy_class.strip()
    if not accuracy:
        return None
    mpe = dsi.parse_magnitude(accuracy)
    if mpe is not None:
        return Quantity(
            Text.of("最大允许误差", "maximum permissible error"),
            (RealQuantity(mpe[0], mpe[1]),),
            ref_type="jiliang_maximumPermissibleError",
        )
    return Quantity(
        Text.of("准确度等级", "accuracy class"), text=Text.plain(accuracy), ref_type="jiliang_accuracyClass"
    )


def _results(
    record: VerificationRecord,
    inst: Instrument,
    standard: MeasurementStandard | None,
    measured: Sequence[Quantity],
    points: Sequence[Result] = (),
) -> MeasurementResult:
    results: list[Result] = list(points)
    if measured:
        results.append(Result(Text.of("测量结果", "measurement results"), tuple(measured)))
    quantities = [_conclusion_quantity(record)]
    mpe = _mpe_quantity(inst)
    if mpe is not None:
        quantities.append(mpe)
    results.append(
        Result(
            Text.of("检定结论", "verification conclusion"), tuple(quantities), ref_type="jiliang_conclusion"
        )
    )
    equipments: tuple[MeasuringEquipment, ...] = ()
    if standard is not None:
        equipments = (
            MeasuringEquipment(
                Text.plain(standard.name),
                (
                    Identification(
                        "calibrationLaboratory",
                        standard.certificate_no,
                        Text.of("计量标准考核证书编号", "measurement standard certificate number"),
                        "jiliang_standardCertificate",
                    ),
                ),
                ref_type="basic_normalUsed",
            ),
        )
    methods: tuple[UsedMethod, ...] = ()
    if record.regulation.strip():
        methods = (UsedMethod(Text.of("检定规程", "verification regulation"), (record.regulation,)),)
    return MeasurementResult(
        name=Text.of("检定结果", "verification results"),
        results=tuple(results),
        used_methods=methods,
        measuring_equipments=equipments,
    )


def _statements(
    session: Session, record: VerificationRecord, data: VerificationView | None = None
) -> tuple[Statement, ...]:
    norms = (record.regulation,) if record.regulation.strip() else ()
    passed = record.conclusion == Conclusion.PASS.value
    basis = f"（{record.regulation}）" if norms else ""
    out = [
        Statement(
            declaration=Text.of(
                f"经检定，该计量器具{'符合' if passed else '不符合'}检定规程要求{basis}。",
                f"Verified: the instrument {'conforms' if passed else 'does not conform'} to the "
                f"verification regulation{' ' + record.regulation if norms else ''}.",
            ),
            ref_type="basic_conformity",
            norms=norms,
            conformity=record.conclusion,
        )
    ]
    if passed and record.due_on is not None:
        out.append(
            Statement(
                declaration=Text.of("下次检定日期（有效期至）", "verification due by (valid until)"),
                ref_type="basic_recalibration",
                date=record.due_on,
            )
        )
    if record.supersedes_id is not None:
        old = session.get(VerificationRecord, record.supersedes_id)
        old_no = old.document_no if old else str(record.supersedes_id)
        out.append(
            Statement(
                declaration=Text.of(
                    f"本证书更正并取代记录 {old_no}", f"corrects and supersedes record {old_no}"
                ),
                ref_type="jiliang_supersedes",
            )
        )
    if data is not None:
        stage_zh, stage_en = STAGE_LABELS[Stage(data.stage)]
        rule_zh, rule_en = DECISION_LABELS[DecisionRule(data.decision_rule)]
        out.append(
            Statement(
                declaration=Text.of(f"检定类别：{stage_zh}", f"kind of verification: {stage_en}"),
                ref_type="jiliang_verificationStage",
            )
        )
        out.append(
            Statement(
                declaration=Text.of(f"判定规则：{rule_zh}", f"decision rule: {rule_en}"),
                ref_type="basic_decisionRule jiliang_decisionRule",
            )
        )
    if record.remarks.strip():
        out.append(Statement(declaration=Text.plain(record.remarks.strip()), ref_type="jiliang_remarks"))
    return tuple(out)


DUTIES = {
    "verifier": "检定员 / verifier",
    "checker": "核验员 / checker",
    "approver": "批准人 / approver",
}


def _signatories(data: VerificationView) -> tuple[RespPerson, ...]:
    """The three people who signed the verification off, each with their qualification number."""
    return tuple(
        RespPerson(
            p.name,
            role=f"{DUTIES[p.duty]}（证号 / no. {p.qualification_no}）",
            main_signer=p.duty == "approver",
        )
        for p in data.persons
    )


# U is stated with its coverage factor; k = 2 is read as a coverage probability of about 95 % (JJF 1059.1).
COVERAGE_PROBABILITY = Decimal("0.95")


def _value(
    value: str, unit: str, name: Text, ref: str, uncertainty: ExpandedUncertainty | None = None
) -> Quantity:
    """A D-SI value where the unit has a D-SI form; otherwise the number and unit as text (mmHg)."""
    try:
        dsi_unit = dsi.to_dsi(unit or "1")
    except InvalidInput:
        shown = f"{value} {unit}"
        if uncertainty is not None:
            shown += f"，U = {uncertainty.uncertainty} {unit}（k = {uncertainty.coverage_factor}）"
        return Quantity(name, text=Text.plain(shown), ref_type=ref)
    return Quantity(name, (RealQuantity(Decimal(value), dsi_unit, uncertainty),), ref_type=ref)


def _test_points(data: VerificationView | None) -> tuple[Result, ...]:
    """One result per test point (nominal value, indications, error with U, MPE, pass/fail), then the
    inspection items as judged. refTypes in docs/dcc.md."""
    if data is None:
        return ()
    out: list[Result] = []
    inspections: list[Quantity] = []
    for p in data.points:
        verdict = (Conclusion.PASS.value if p.passed else Conclusion.FAIL.value,)
        if p.kind == "inspection":
            inspections.append(
                Quantity(
                    Text.plain(p.label),
                    text=CONCLUSION_TEXT[verdict[0]],
                    ref_type="jiliang_inspection",
                    conformity=verdict,
                )
            )
            continue
        unc = (
            ExpandedUncertainty(
                Decimal(p.uncertainty), Decimal(p.coverage_factor or "2"), COVERAGE_PROBABILITY
            )
            if p.uncertainty
            else None
        )
        error = _value(
            p.error, p.unit, Text.of("示值误差", "error of indication"), "basic_measurementError", unc
        )
        error = Quantity(error.name, error.values, error.text, error.ref_type, conformity=verdict)
        quantities = [
            _value(p.nominal, p.unit, Text.of("标准值", "conventional true value"), "jiliang_nominalValue"),
            *(
                _value(x, p.unit, Text.of(f"示值 {i}", f"indication {i}"), "jiliang_indication")
                for i, x in enumerate(p.indications.split(), start=1)
            ),
            error,
        ]
        if Decimal(p.mpe_lower) == -Decimal(p.mpe_upper):
            quantities.append(
                _value(p.mpe_upper, p.unit, Text.of("最大允许误差", "maximum permissible error"), MPE_REF)
            )
        else:
            quantities += [
                _value(
                    p.mpe_lower, p.unit, Text.of("最大允许误差下限", "MPE, lower limit"), "jiliang_mpeLower"
                ),
                _value(
                    p.mpe_upper, p.unit, Text.of("最大允许误差上限", "MPE, upper limit"), "jiliang_mpeUpper"
                ),
            ]
        label = f"：{p.label}" if p.label else ""
        out.append(
            Result(
                Text.of(f"检定点 {p.seq}{label}", f"test point {p.seq}{label}"),
                tuple(quantities),
                texts=(Text.plain(p.mpe_basis),) if p.mpe_basis else (),
                ref_type="jiliang_testPoint",
            )
        )
    if inspections:
        out.append(
            Result(
                Text.of("检查项目", "inspection items"), tuple(inspections), ref_type="jiliang_inspections"
            )
        )
    return tuple(out)


MPE_REF = "jiliang_maximumPermissibleError"
