"""Digital calibration certificates: built from the registry, validated against PTB's official schemas
(DCC 3.2.0 with D-SI 2.1.0 and XML-DSig, packaged, offline), parsed back, rendered; hostile XML refused."""

from __future__ import annotations

import base64
import dataclasses
import re
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import segno
import xmlschema
from lxml import etree

from jiliang.errors import InvalidInput, PayloadTooLarge
from jiliang.services import dcc_records, instruments, standards, verifications
from jiliang.store.models import VerificationRecord
from jiliang.trust import dcc, dsi, rendering
from jiliang.trust.dcc_model import (
    DccCertificate,
    ExpandedUncertainty,
    Quantity,
    RealQuantity,
    Text,
)
from tests.factories import CITY, World, authorise_all, instrument_raw

DATA = dcc.data_dir()
EXAMPLES = sorted((DATA / "examples").glob("*.xml"))
EXAMPLE = DATA / "examples" / "dcc_gp_temperature_simplified_v12.xml"
ISSUED = date(2026, 6, 15)


# ------------------------------------------------------------------------------------------ fixtures


def _file(
    world: World, serial: str, item_code: str, measuring_range: str, accuracy: str, **kw: object
) -> int:
    raw = instrument_raw(
        serial, item_code=item_code, measuring_range=measuring_range, accuracy_class=accuracy, **kw
    )
    return instruments.file_instrument(world.platform, world.as_("enterprise"), raw).id


def _verify(world: World, inst_id: int, on: str, conclusion: str, doc: str, **kw: object) -> int:
    raw = {"instrument_id": inst_id, "verified_on": on, "conclusion": conclusion, "document_no": doc, **kw}
    return verifications.record_verification(world.platform, world.as_("institution"), raw).id


@pytest.fixture
def records(world: World) -> dict[str, int]:
    """Records of different kinds: with a standard, a failure, a non-SI MPE, a correction with remarks."""
    authorise_all(world, ["09.01", "01.02", "02.01", "16.01"])
    std = standards.add_standard(
        world.platform,
        world.as_("institution"),
        {
            "name": "燃油加油机检定装置",
            "kind": "social_public",
            "region_code": CITY,
            "quantity": "体积",
            "certificate_no": "[2024]浙量标证字第001号",
            "certificate_valid_from": "2024-01-01",
            "certificate_valid_until": "2028-01-01",
            "item_codes": ["09.01"],
        },
    )
    fuel = _file(world, "F-1", "09.01", "(5–60) L/min", "0.3", pattern_approval_no="2019F123-33")
    thermo = _file(world, "T-1", "01.02", "(32–43) ℃", "±0.1 ℃", use="medical")
    scale = _file(world, "S-1", "02.01", "(0.1–30) kg", "Ⅲ")
    bp = _file(world, "B-1", "16.01", "(0–300) mmHg", "±3 mmHg", use="medical")
    out = {
        "fuel": _verify(world, fuel, "2026-05-01", "pass", "JD-F-1", standard_id=std.id),
        "thermo": _verify(world, thermo, "2026-05-02", "pass", "JD-T-1"),
        "scale_fail": _verify(world, scale, "2026-05-03", "fail", "JD-S-1"),
        "bp": _verify(world, bp, "2026-05-04", "pass", "JD-B-1"),
    }
    out["bp_corrected"] = _verify(
        world,
        bp,
        "2026-05-04",
        "pass",
        "JD-B-1a",
        supersedes_id=out["bp"],
        remarks="更正出厂编号 / serial corrected",
    )
    return out


def _cert(world: World, record_id: int, number: str = "DCC-2026-0001", **kw: object) -> DccCertificate:
    with world.platform.reading() as s:
        return dcc_records.certificate_for_record(s, record_id, number, ISSUED, **kw)  # type: ignore[arg-type]


MEASURED = (
    Quantity(
        Text.of("示值误差", "error of indication"),
        (
            RealQuantity(
                Decimal("0.12"),
                dsi.to_dsi("%"),
                ExpandedUncertainty(Decimal("0.05"), Decimal("2"), Decimal("0.95"), "normal"),
            ),
        ),
        ref_type="basic_measurementError",
        conformity=("pass",),
    ),
    Quantity(
        Text.of("标准器示值", "reference values"),
        tuple(
            RealQuantity(
                Decimal(v),
                "\\litre",
                ExpandedUncertainty(Decimal("0.004"), Decimal("2.0"), Decimal("0.9545")),
            )
            for v in ("20.000", "20.012", "1E+2")
        ),
        ref_type="basic_referenceValue",
        alternatives=(
            tuple(
                RealQuantity(
                    Decimal(v),
                    "\\milli\\litre",
                    ExpandedUncertainty(Decimal("4"), Decimal("2.0"), Decimal("0.9545")),
                )
                for v in ("20000", "20012", "100000")
            ),
        ),
        conformity=("pass", "pass", "fail"),
    ),
)


# ------------------------------------------------------------------------------------ building


@pytest.fixture(scope="module")
def reference_schema() -> xmlschema.XMLSchema:
    mapping = {url: (DATA / local).as_uri() for url, local in dcc._LOCAL.items()}
    return xmlschema.XMLSchema(str(DATA / "v3.2.0" / "dcc.xsd"), uri_mapper=mapping, allow="local")


def test_every_certificate_built_from_records_validates_against_the_official_3_2_0_schema(
    world: World, records: dict[str, int], reference_schema: xmlschema.XMLSchema
) -> None:
    for n, record_id in enumerate(records.values()):
        xml = dcc.build(_cert(world, record_id, f"DCC-2026-{n:04d}"))
        assert dcc.validate(xml) == "3.2.0"
        # and by a second, independent validator (xmlschema, pure Python) over the same packaged files
        reference_schema.validate(xml.decode("utf-8"))


def test_a_certificate_with_measured_values_validates_and_round_trips(
    world: World, records: dict[str, int]
) -> None:
    cert = _cert(world, records["fuel"], measured=MEASURED)
    xml = dcc.build(cert)
    assert dcc.validate(xml) == "3.2.0"
    assert b"<si:expandedUncXMLList>" in xml and b"<si:hybrid>" in xml
    assert dcc.parse(xml) == cert


def test_round_trip_build_parse_is_equal_for_every_record(world: World, records: dict[str, int]) -> None:
    for record_id in records.values():
        cert = _cert(world, record_id)
        assert dcc.parse(dcc.build(cert)) == cert


def test_mapping_of_a_verification_record(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["fuel"], "DCC-X")
    assert cert.core.unique_identifier == "DCC-X" and cert.core.issue_date == ISSUED
    assert cert.core.begin_performance == date(2026, 5, 1) == cert.core.end_performance
    assert cert.core.country == "CN" and cert.core.mandatory_languages == ("zh",)
    assert cert.identification("jiliang_documentNo") == "JD-F-1"
    assert cert.identification("jiliang_creditCode") == cert.laboratory.code
    assert str(cert.laboratory.contact.name) == "演示市计量检定测试院"
    assert str(cert.customer.name) == "东城加油站"
    item = cert.items[0]
    ids = {i.ref_type: i.value for i in item.identifications}
    assert ids["jiliang_serialNumber"] == "F-1" and ids["jiliang_patternApproval"] == "2019F123-33"
    assert item.manufacturer == "示例制造有限公司" and item.model == "M-1"
    assert item.name.get("en") == "fuel dispenser"
    low, high = (q.values[0] for q in item.quantities)
    assert (low.value, high.value, low.unit) == (Decimal(5), Decimal(60), "\\litre\\minute\\tothe{-1}")
    assert cert.conformity == "pass"
    with world.platform.reading() as s:
        record = s.get(VerificationRecord, records["fuel"])
        assert record is not None and record.due_on is not None and record.regulation
        due, regulation = record.due_on, record.regulation
    recal = next(s for s in cert.statements if s.ref_type == "basic_recalibration")
    assert recal.date == due
    mr = cert.measurement_results[0]
    assert mr.used_methods[0].norms == (regulation,)
    assert next(s for s in cert.statements if s.ref_type == "basic_conformity").norms == (regulation,)
    assert mr.measuring_equipments[0].identifications[0].value == "[2024]浙量标证字第001号"
    conclusion = mr.results[0].quantities[0]
    assert conclusion.conformity == ("pass",) and conclusion.text == Text.of("合格", "pass")
    # the accuracy class "0.3" is a class, not a quantity with a unit
    assert mr.results[0].quantities[1].text == Text.plain("0.3")
    assert cert.resp_persons[0].name == "institution" and cert.resp_persons[0].main_signer


def test_mpe_becomes_a_dsi_quantity_when_its_unit_is_known(world: World, records: dict[str, int]) -> None:
    mpe = _cert(world, records["thermo"]).measurement_results[0].results[0].quantities[1]
    assert mpe.values == (RealQuantity(Decimal("0.1"), "\\degreecelsius"),)
    bp = _cert(world, records["bp"]).measurement_results[0].results[0].quantities[1]
    assert bp.values == () and bp.text == Text.plain("±3 mmHg")  # mmHg is not a D-SI unit


def test_a_failed_verification_states_fail_and_no_due_date(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["scale_fail"])
    assert cert.conformity == "fail"
    assert not any(s.ref_type == "basic_recalibration" for s in cert.statements)
    assert dcc.validate(dcc.build(cert)) == "3.2.0"


def test_a_correction_names_the_record_it_supersedes(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["bp_corrected"])
    refs = {s.ref_type: s for s in cert.statements}
    assert "JD-B-1" in str(refs["jiliang_supersedes"].declaration)
    assert "serial corrected" in str(refs["jiliang_remarks"].declaration)


def test_an_unknown_record_is_not_found(world: World) -> None:
    from jiliang.errors import NotFound

    with pytest.raises(NotFound):
        _cert(world, 99999)


def test_building_refuses_what_the_schema_refuses(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["thermo"])
    bad = dataclasses.replace(cert, core=dataclasses.replace(cert.core, country="cn"))
    with pytest.raises(dcc.DccInvalid) as exc:
        dcc.build(bad)
    assert "countryCodeISO3166_1" in exc.value.message


def test_an_appended_enveloped_signature_still_validates(world: World, records: dict[str, int]) -> None:
    root = etree.fromstring(dcc.build(_cert(world, records["fuel"])))
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    sig = etree.SubElement(root, ds + "Signature", nsmap={"ds": dcc.DS_NS})
    si = etree.SubElement(sig, ds + "SignedInfo")
    etree.SubElement(si, ds + "CanonicalizationMethod", Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    etree.SubElement(
        si, ds + "SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    )
    ref = etree.SubElement(si, ds + "Reference", URI="")
    etree.SubElement(ref, ds + "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    etree.SubElement(ref, ds + "DigestValue").text = "AAAA"
    etree.SubElement(sig, ds + "SignatureValue").text = "AAAA"
    signed = etree.tostring(root)
    assert dcc.validate(signed) == "3.2.0"
    assert dcc.parse(signed).signed
    # but not anywhere else: a signature before measurementResults breaks the 3.2.0 shape
    root.insert(1, sig)
    with pytest.raises(dcc.DccInvalid):
        dcc.validate(etree.tostring(root))


# ---------------------------------------------------------------------------- reading other DCCs


def test_the_official_examples_are_packaged() -> None:
    assert EXAMPLES, "no official example DCC in data/dcc/examples"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_official_example_validates_and_parses(path: Path) -> None:
    xml = path.read_bytes()
    version = dcc.validate(xml)
    cert = dcc.parse(xml)
    assert cert.schema_version == version
    assert cert.core.unique_identifier and cert.items and cert.measurement_results


def test_the_ptb_temperature_example_reads_to_its_published_content() -> None:
    cert = dcc.parse((DATA / "examples" / "dcc_gp_temperature_simplified_v12.xml").read_bytes())
    assert cert.schema_version == "3.1.1"
    assert cert.core.unique_identifier == "GP_DCC_temperature_minimal_1.2"
    assert cert.core.begin_performance == date(1957, 8, 13)
    assert str(cert.laboratory.contact.name) == "Kalibrierfirma GmbH"
    assert cert.conformity == "pass"
    qs = {q.ref_type: q for q in cert.measurement_results[0].results[0].quantities}
    error = qs["basic_measurementError"]
    assert [v.value for v in error.values] == [
        Decimal(x) for x in ("0.072", "0.089", "0.107", "-0.009", "-0.084")
    ]
    assert error.values[0].uncertainty == ExpandedUncertainty(
        Decimal("0.061"), Decimal(2), Decimal("0.95"), "normal"
    )
    assert error.conformity == ("pass",)
    ref = qs["basic_referenceValue"]
    assert ref.values[0].unit == "\\kelvin" and ref.alternatives[0][0] == RealQuantity(
        Decimal("33.098"), "\\degreecelsius"
    )


@pytest.mark.parametrize("version", dcc.VERSIONS)
def test_every_release_schema_compiles_offline_and_holds_to_its_version(version: str) -> None:
    """Each packaged release compiles from local files only and accepts only its own schemaVersion;
    the 3.1.1 example is also valid 3.1.2 and 3.2.0 (those releases kept its structure), not 3.0.0."""
    xml = (DATA / "examples" / "dcc_gp_temperature_simplified_v12.xml").read_bytes()
    relabelled = xml.replace(b'schemaVersion="3.1.1"', f'schemaVersion="{version}"'.encode())
    xsd = dcc.schema(version)
    wrong = etree.fromstring(xml.replace(b'schemaVersion="3.1.1"', b'schemaVersion="9.9.9"'))
    assert not xsd.validate(wrong) and "schemaVersion" in xsd.error_log[0].message
    if version == "3.0.0":
        with pytest.raises(dcc.DccInvalid):
            dcc.validate(relabelled)
    else:
        assert dcc.validate(relabelled) == version


@pytest.mark.parametrize("version", dcc.VERSIONS)
def test_a_document_of_every_release_validates_and_reads(
    world: World, records: dict[str, int], version: str
) -> None:
    """The elements every release shares (no issueDate or itemQuantities before 3.2.0, contacts with an
    e-mail address, single values): labelled as each release, validated by that release's schema, read
    back to the same certificate."""
    cert = _cert(world, records["thermo"], measured=MEASURED[:1])
    lab = dataclasses.replace(cert.laboratory.contact, email="lab@jiliang.example")
    legacy = dataclasses.replace(
        cert,
        core=dataclasses.replace(cert.core, issue_date=None),
        items=tuple(dataclasses.replace(i, quantities=()) for i in cert.items),
        laboratory=dataclasses.replace(cert.laboratory, contact=lab),
        customer=dataclasses.replace(cert.customer, email="owner@jiliang.example"),
    )
    xml = dcc.build(legacy).replace(b'schemaVersion="3.2.0"', f'schemaVersion="{version}"'.encode())
    assert dcc.validate(xml) == version
    assert dcc.parse(xml) == dataclasses.replace(legacy, schema_version=version)


def test_an_invalid_document_is_refused_with_the_schema_message_line_and_path() -> None:
    xml = (DATA / "examples" / "dcc_gp_temperature_simplified_v12.xml").read_bytes()
    bad = xml.replace(b"<dcc:countryCodeISO3166_1>DE<", b"<dcc:countryCodeISO3166_1>Germany<", 1)
    with pytest.raises(dcc.DccInvalid) as exc:
        dcc.validate(bad)
    err = exc.value
    assert isinstance(err, InvalidInput)
    assert (
        "countryCodeISO3166_1" in err.context["schema_message"] and "Germany" in err.context["schema_message"]
    )
    assert err.context["line"] == 53 and "coreData" in err.context["path"]
    with pytest.raises(dcc.DccInvalid):
        dcc.parse(bad)


def test_documents_that_are_not_dccs_are_refused() -> None:
    with pytest.raises(dcc.DccInvalid, match="root element"):
        dcc.validate(b"<a/>")
    with pytest.raises(dcc.DccInvalid, match="does not parse"):
        dcc.validate(b"<dcc:digitalCalibrationCertificate")
    with pytest.raises(dcc.DccInvalid, match="unsupported"):
        dcc.validate(b'<d:digitalCalibrationCertificate xmlns:d="https://ptb.de/dcc" schemaVersion="2.4.0"/>')


# --------------------------------------------------------------------------------- hostile XML

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<dcc:digitalCalibrationCertificate xmlns:dcc="https://ptb.de/dcc" schemaVersion="3.2.0">&xxe;</dcc:digitalCalibrationCertificate>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<dcc:digitalCalibrationCertificate xmlns:dcc="https://ptb.de/dcc" schemaVersion="3.2.0">&lol9;</dcc:digitalCalibrationCertificate>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">
<dcc:digitalCalibrationCertificate xmlns:dcc="https://ptb.de/dcc" schemaVersion="3.2.0"/>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_hostile_xml_is_refused_before_anything_is_expanded_or_fetched(xml: bytes) -> None:
    for reader in (dcc.validate, dcc.parse):
        with pytest.raises(dcc.DccInvalid, match="DOCTYPE"):
            reader(xml)


def test_xxe_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    xml = XXE.replace(b"file:///etc/passwd", secret.as_uri().encode())
    with pytest.raises(dcc.DccInvalid) as exc:
        dcc.parse(xml)
    assert "TOP-SECRET" not in str(exc.value.as_dict())


def test_a_doctype_in_utf16_is_refused_too() -> None:
    xml = XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode("ascii")
    with pytest.raises(dcc.DccInvalid, match="DOCTYPE"):
        dcc.validate(xml.encode("utf-16"))


def test_validation_from_many_threads_uses_one_schema_per_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = EXAMPLE.read_bytes()
    bad = good.replace(b">DE<", b">Germany<", 1)

    def check(i: int) -> str:
        try:
            return dcc.validate(good if i % 2 else bad)
        except dcc.DccInvalid as exc:
            return str(exc.context["line"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(check, range(40)))
    assert answers == ["53" if i % 2 == 0 else "3.1.1" for i in range(40)]


def test_reading_keeps_the_document_as_signed() -> None:
    """A signature over the whole document (URI="") covers processing instructions and comments outside
    the root: the safe reader keeps them, so a verifier can canonicalise what was signed."""
    xml = EXAMPLE.read_bytes().replace(
        b'<?xml version="1.0" encoding="utf-8"?>',
        b'<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="dcc.xsl"?>',
    )
    tree = dcc.read_untrusted(xml)
    assert b"<?xml-stylesheet" in etree.tostring(tree) and b"ATTENTION!" in etree.tostring(tree)
    assert dcc.validate(xml) == "3.1.1"


def test_an_oversized_document_is_refused_before_parsing() -> None:
    big = b"<a>" + b"x" * (dcc.MAX_BYTES + 1) + b"</a>"
    with pytest.raises(PayloadTooLarge):
        dcc.validate(big)


def test_deep_nesting_is_refused_by_the_parser_limits() -> None:
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(dcc.DccInvalid, match="does not parse"):
        dcc.validate(deep)


# ------------------------------------------------------------------------------------------- units


def test_dsi_units_of_the_registry() -> None:
    assert dsi.to_dsi("℃") == "\\degreecelsius"
    assert dsi.to_dsi("L") == "\\litre"
    assert dsi.to_dsi("kW·h") == "\\kilo\\watt\\hour"
    assert dsi.to_dsi("m³") == "\\metre\\tothe{3}"
    assert dsi.parse_range("(0–1.6) MPa") == (Decimal(0), Decimal("1.6"), "\\mega\\pascal")
    assert dsi.parse_range("(−25–+22) m⁻¹") == (Decimal(-25), Decimal(22), "\\metre\\tothe{-1}")
    assert dsi.parse_magnitude("±0.25 m⁻¹") == (Decimal("0.25"), "\\metre\\tothe{-1}")
    assert dsi.parse_magnitude("0.5") is None and dsi.parse_magnitude("Ⅲ") is None
    assert dsi.symbol("\\kilo\\watt\\hour") == "kW·h"
    with pytest.raises(InvalidInput, match="D-SI"):
        dsi.to_dsi("mmHg")


def test_every_ledger_unit_of_the_demo_city_that_parses_is_in_the_table() -> None:
    from jiliang.demo.city import LEDGER

    parsed = [dsi.parse_range(r) for _, r, _ in LEDGER.values()]
    assert sum(p is not None for p in parsed) >= 30
    assert all(p[2] in dsi.SYMBOLS for p in parsed if p)


# --------------------------------------------------------------------------------------- rendering


def test_html_rendering_is_chinese_first_with_a_qr_code(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["thermo"], measured=MEASURED)
    html = rendering.render_html(
        cert,
        verify_url="https://jiliang.example/v/DCC-2026-0001",
        status="有效 / valid",
        signature_summary=None,
    )
    # a verification that passed is a 检定证书 (not a calibration certificate), Chinese first
    assert html.index("检定证书") < html.index("Verification certificate") and "校准证书" not in html
    assert "演示市计量检定测试院" in html and "合格 / pass" in html
    assert "±0.1 ℃" in html and "k = 2" in html
    assert "<svg" in html and "https://jiliang.example/v/DCC-2026-0001" in html
    assert "<script" not in html


def test_html_escapes_what_the_document_says() -> None:
    xml = (DATA / "examples" / "dcc_gp_temperature_simplified_v12.xml").read_bytes()
    cert = dcc.parse(xml.replace(b"Kalibrierfirma GmbH", b"&lt;script&gt;alert(1)&lt;/script&gt;"))
    html = rendering.render_html(
        cert, verify_url="https://x.example/v", status="valid", signature_summary="ok"
    )
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_qr_svg_encodes_the_url() -> None:
    svg = rendering.qr_svg("https://jiliang.example/v/1")
    assert svg.startswith("<svg") and "path" in svg


def test_pdf_is_a4_with_chinese_font_and_qr(world: World, records: dict[str, int]) -> None:
    cert = _cert(world, records["fuel"], measured=MEASURED)
    pdf = rendering.render_pdf(
        cert, verify_url="https://jiliang.example/v/1", status="有效 / valid", signature_summary="ECDSA"
    )
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf and b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    # the QR code is drawn: one filled square per dark module of the URL's symbol, on page one
    page_one = _pdf_streams(pdf)[0]
    dark = sum(sum(row) for row in segno.make("https://jiliang.example/v/1", error="m").matrix_iter(border=0))
    assert page_one.count(b" re f*") == dark
    text = _pdf_text(page_one)
    assert text.index("检定证书") < text.index("Verification certificate")
    assert "演示市计量检定测试院" in text and "合格 / pass" in text


def _pdf_text(stream: bytes) -> str:
    """The strings shown by Tj in a content stream, decoded from the CID font's UCS-2 (UTF-16BE)."""
    out = []
    for m in re.finditer(rb"\(((?:\\.|[^\\)])*)\) Tj", stream, re.S):
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda e: bytes([int(e.group(1), 8)]) if e.group(1)[:1].isdigit() else e.group(1),
            m.group(1),
        )
        out.append(raw.decode("utf-16-be", "replace"))
    return "\n".join(out)


def _pdf_streams(pdf: bytes) -> list[bytes]:
    """The decoded content streams of a reportlab PDF (ASCII85 + Flate)."""
    out = []
    for m in re.finditer(rb"<<([^>]*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        header, body = m.group(1), m.group(2)
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.strip(), adobe=True)
        if b"FlateDecode" in header:
            body = zlib.decompress(body)
        out.append(body)
    return out


# ------------------------------------------------------------------------------------ API and CLI


def test_api_validates_a_raw_body_and_an_upload_without_login(world: World, records: dict[str, int]) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app

    ours = dcc.build(_cert(world, records["thermo"], "DCC-API-1"))
    with TestClient(create_app(world.platform)) as client:
        r = client.post("/api/v1/dcc/validate", content=ours, headers={"content-type": "application/xml"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["schema_version"] == "3.2.0" and body["content"]["unique_identifier"] == "DCC-API-1"
        assert body["content"]["conformity"] == "pass"
        r = client.post("/api/v1/dcc/validate", files={"file": ("ptb.xml", EXAMPLE.read_bytes(), "text/xml")})
        assert r.status_code == 200 and r.json()["schema_version"] == "3.1.1"
        bad = EXAMPLE.read_bytes().replace(b">DE<", b">Germany<", 1)
        r = client.post("/api/v1/dcc/validate", content=bad, headers={"content-type": "application/xml"})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "dcc_invalid" and "countryCodeISO3166_1" in error["message"]
        assert error["context"]["line"] == 53
        r = client.post("/api/v1/dcc/validate", content=XXE, headers={"content-type": "application/xml"})
        assert r.status_code == 422 and "DOCTYPE" in r.json()["error"]["message"]
        r = client.post(
            "/api/v1/dcc/validate",
            content=b" " * (dcc.MAX_BYTES + 1),
            headers={"content-type": "application/xml"},
        )
        assert r.status_code == 413


def test_cli_validate_show_render(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jiliang.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["dcc", "validate", str(EXAMPLE)])
    assert r.exit_code == 0 and "3.1.1" in r.output
    r = runner.invoke(app, ["dcc", "show", str(EXAMPLE), "--json"])
    assert r.exit_code == 0 and '"GP_DCC_temperature_minimal_1.2"' in r.output
    r = runner.invoke(app, ["dcc", "show", str(EXAMPLE)])
    assert r.exit_code == 0 and "Kalibrierfirma" in r.output
    bad = tmp_path / "bad.xml"
    bad.write_bytes(EXAMPLE.read_bytes().replace(b">DE<", b">Germany<", 1))
    r = runner.invoke(app, ["dcc", "validate", str(bad)])
    assert r.exit_code == 2 and "countryCodeISO3166_1" in r.output
    html, pdf = tmp_path / "c.html", tmp_path / "c.pdf"
    r = runner.invoke(app, ["dcc", "render", str(EXAMPLE), "--html", str(html), "--pdf", str(pdf)])
    assert r.exit_code == 0, r.output
    # PTB's example makes no statement of conformity: it is a calibration (校准), not a verification (检定)
    assert "校准证书" in html.read_text(encoding="utf-8") and pdf.read_bytes().startswith(b"%PDF")
