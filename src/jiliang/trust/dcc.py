"""Digital calibration certificates (DCC, PTB schema): build 3.2.0, validate and parse releases 3.0.0–3.2.0.

Validation is offline by construction: each release's ``dcc.xsd`` is read from the package and its
``xs:import`` addresses (https://ptb.de/si/…, https://www.w3.org/TR/xmldsig-core/…) are rewritten to the
packaged copies before lxml compiles it (see data/dcc/SOURCES.md); the parser that reads the schemas has
the network switched off, so a missed mapping fails loudly instead of fetching. Compiled schemas are
cached per thread (an lxml ``XMLSchema`` must not be shared between threads while validating).

Untrusted documents are read with entity resolution, network access, DTD loading and huge trees off, and
any DOCTYPE is refused outright: a DCC never needs one, and refusing it shuts out XXE, external DTDs and
entity-expansion bombs (billion laughs) in one rule. Size is bounded before parsing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from jiliang.errors import InvalidInput, PayloadTooLarge
from jiliang.trust.dcc_model import (
    Contact,
    CoreData,
    DccCertificate,
    ExpandedUncertainty,
    Identification,
    InfluenceCondition,
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

DCC_NS = "https://ptb.de/dcc"
SI_NS = "https://ptb.de/si"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"dcc": DCC_NS, "si": SI_NS, "ds": DS_NS}
WRITTEN_VERSION = "3.2.0"
VERSIONS = ("3.0.0", "3.1.1", "3.1.2", "3.2.0")
MAX_BYTES = 8 * 1024 * 1024  # a DCC with embedded files is rarely over a few MB; refuse before parsing
_D = f"{{{DCC_NS}}}"
_S = f"{{{SI_NS}}}"

# schemaLocation in the published schemas -> packaged copy (relative to data/dcc)
_LOCAL = {
    "https://ptb.de/si/v2.1.0/SI_Format.xsd": "dsi/v2.1.0/SI_Format.xsd",
    "https://ptb.de/si/v2.0.0/SI_Format.xsd": "dsi/v2.0.0/SI_Format.xsd",
    "https://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd": "xmldsig/xmldsig-core-schema.xsd",
}


class DccInvalid(InvalidInput):
    """The document is not a valid DCC; ``context`` carries the schema's message, line and XPath."""

    code = "dcc_invalid"


def data_dir() -> Path:
    return Path(str(resources.files("jiliang") / "data" / "dcc"))


# ------------------------------------------------------------------------------------------- schemas


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def load_schema(version: str) -> etree.XMLSchema:
    """Compile one release's schema from the packaged files, imports rewritten to local paths."""
    if version not in VERSIONS:
        raise DccInvalid(
            f"不支持的 DCC 版本 {version!r}（支持 {', '.join(VERSIONS)}）/ unsupported DCC schemaVersion "
            f"{version!r} (supported: {', '.join(VERSIONS)})",
            field="schemaVersion",
        )
    base = data_dir()
    path = base / f"v{version}" / "dcc.xsd"
    tree = etree.parse(str(path), _schema_parser())
    for imp in tree.getroot().iter("{http://www.w3.org/2001/XMLSchema}import"):
        location = imp.get("schemaLocation", "")
        if location not in _LOCAL:
            raise RuntimeError(f"schema {path} imports {location!r}, which has no packaged copy")
        imp.set("schemaLocation", (base / _LOCAL[location]).as_uri())
    return etree.XMLSchema(tree)


_local = threading.local()


def schema(version: str) -> etree.XMLSchema:
    """The compiled schema of a release, cached per thread."""
    cache: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    if version not in cache:
        cache[version] = load_schema(version)
    return cache[version]


# ------------------------------------------------------------------------------- reading, safely


def read_untrusted(xml: bytes, *, max_bytes: int = MAX_BYTES) -> etree._ElementTree:
    """Parse a document from outside: bounded size, no DTD, no entities, no network."""
    if not isinstance(xml, bytes | bytearray):
        raise DccInvalid("DCC 必须是字节 / a DCC must be given as bytes", field="xml")
    if len(xml) > max_bytes:
        raise PayloadTooLarge(
            f"DCC 过大：{len(xml):,} 字节，上限 {max_bytes:,} / DCC too large: {len(xml):,} bytes, "
            f"limit {max_bytes:,}",
            field="xml",
        )
    if any(marker in xml for marker in _DOCTYPE_MARKERS):
        raise _doctype_refused()
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        # processing instructions stay: an enveloped signature over URI="" covers those outside the root
    )
    try:
        tree = etree.ElementTree(etree.fromstring(bytes(xml), parser))
    except etree.XMLSyntaxError as exc:
        raise DccInvalid(
            f"XML 无法解析 / XML does not parse: {exc.msg} (line {exc.lineno})",
            field="xml",
            line=exc.lineno,
            schema_message=exc.msg,
        ) from None
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _doctype_refused()  # pragma: no cover - the byte scan above sees every encoding we accept
    return tree


def unique_identifier(xml: bytes) -> str:
    """The certificate number alone, read safely without building the whole model (a lookup key)."""
    root = read_untrusted(xml).getroot()
    found = root.findtext(f"{_D}administrativeData/{_D}coreData/{_D}uniqueIdentifier")
    if not found or not found.strip():
        raise DccInvalid(
            "DCC 缺少 uniqueIdentifier / the DCC has no uniqueIdentifier", field="uniqueIdentifier"
        )
    return str(found).strip()


# Refused before the parser runs, so that no entity declaration is even read. Also in UTF-16, which an
# XML declaration may announce. (A DCC that merely mentions the string in a comment is refused too.)
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _doctype_refused() -> DccInvalid:
    return DccInvalid(
        "DCC 不得含 DOCTYPE（可能是外部实体或实体膨胀攻击）/ a DCC must not carry a DOCTYPE "
        "(external entities and entity expansion are refused)",
        field="xml",
    )


def _version_of(root: etree._Element) -> str:
    if root.tag != _D + "digitalCalibrationCertificate":
        raise DccInvalid(
            f"根元素不是 dcc:digitalCalibrationCertificate / the root element is {root.tag!r}, not "
            f"{{{DCC_NS}}}digitalCalibrationCertificate",
            field="xml",
            line=root.sourceline,
            path="/",
        )
    version = str(root.get("schemaVersion") or "")
    if not version:
        raise DccInvalid(
            "缺少 schemaVersion / the root element has no schemaVersion attribute", field="schemaVersion"
        )
    return version


def _check(tree: etree._ElementTree, version: str) -> None:
    xsd = schema(version)
    if xsd.validate(tree):
        return
    err = xsd.error_log[0]
    raise DccInvalid(
        f"DCC 不符合 {version} 版 schema / DCC does not validate against schema {version}: "
        f"{err.message} (line {err.line}, {err.path})",
        field="xml",
        schema_message=err.message,
        line=err.line,
        path=err.path,
        version=version,
    )


def validate(xml: bytes) -> str:
    """Validate against the release named in ``schemaVersion``; return that version or raise DccInvalid."""
    tree = read_untrusted(xml)
    version = _version_of(tree.getroot())
    _check(tree, version)
    return version


# ------------------------------------------------------------------------------------------ writing


def _num(value: Decimal) -> str:
    if not value.is_finite():
        raise InvalidInput(f"数值 {value} 不是有限数 / {value} is not a finite number", field="value")
    return str(value)


def _k(value: Decimal) -> str:
    # si:kValueType admits no exponent: write the coverage factor in plain positional notation
    return format(value, "f")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None} or None)
    if text is not None:
        el.text = text
    return el


def _text(parent: etree._Element, tag: str, value: Text) -> etree._Element:
    el = _sub(parent, _D + tag)
    for lang, content in value.contents:
        c = _sub(el, _D + "content", content)
        if lang:
            c.set("lang", lang)
    return el


def _location(parent: etree._Element, loc: Location) -> None:
    el = _sub(parent, _D + "location")
    for tag, value in (
        ("city", loc.city),
        ("countryCode", loc.country_code),
        ("postCode", loc.post_code),
        ("state", loc.state),
        ("street", loc.street),
    ):
        if value:
            _sub(el, _D + tag, value)
    for further in loc.further:
        _sub(_sub(el, _D + "further"), _D + "content", further)


def _contact(parent: etree._Element, tag: str, contact: Contact) -> None:
    el = _sub(parent, _D + tag)
    _text(el, "name", contact.name)
    if contact.email:
        _sub(el, _D + "eMail", contact.email)
    if contact.phone:
        _sub(el, _D + "phone", contact.phone)
    if contact.location is not None:
        _location(el, contact.location)


def _identifications(parent: etree._Element, ids: Sequence[Identification]) -> None:
    el = _sub(parent, _D + "identifications")
    for i in ids:
        ident = _sub(el, _D + "identification", refType=i.ref_type)  # type: ignore[arg-type]
        _sub(ident, _D + "issuer", i.issuer)
        _sub(ident, _D + "value", i.value)
        if i.name is not None:
            _text(ident, "name", i.name)


def _real(parent: etree._Element, q: RealQuantity) -> None:
    el = _sub(parent, _S + "real")
    if q.label:
        _sub(el, _S + "label", q.label)
    _sub(el, _S + "value", _num(q.value))
    _sub(el, _S + "unit", q.unit)
    if q.uncertainty is not None:
        u = _sub(el, _S + "expandedUnc")
        _sub(u, _S + "uncertainty", _num(q.uncertainty.uncertainty))
        _sub(u, _S + "coverageFactor", _k(q.uncertainty.coverage_factor))
        _sub(u, _S + "coverageProbability", _num(q.uncertainty.coverage_probability))
        if q.uncertainty.distribution:
            _sub(u, _S + "distribution", q.uncertainty.distribution)


def _real_list(parent: etree._Element, values: Sequence[RealQuantity]) -> None:
    """Several values as one ``si:realListXMLList`` (one unit when they share it)."""
    el = _sub(parent, _S + "realListXMLList")
    labels = [v.label for v in values]
    if any(labels):
        if not all(labels):
            raise InvalidInput("列表中的标签须全有或全无 / labels in a list: all or none", field="label")
        _sub(el, _S + "labelXMLList", " ".join(str(s) for s in labels))
    _sub(el, _S + "valueXMLList", " ".join(_num(v.value) for v in values))
    units = [v.unit for v in values]
    _sub(el, _S + "unitXMLList", units[0] if len(set(units)) == 1 else " ".join(units))
    uncs = [v.uncertainty for v in values]
    if any(u is not None for u in uncs):
        if any(u is None for u in uncs):
            raise InvalidInput(
                "列表中的不确定度须全有或全无 / uncertainties in a list: all or none", field="uncertainty"
            )
        given = [u for u in uncs if u is not None]
        u = _sub(el, _S + "expandedUncXMLList")
        _sub(u, _S + "uncertaintyXMLList", " ".join(_num(x.uncertainty) for x in given))
        _sub(u, _S + "coverageFactorXMLList", " ".join(_k(x.coverage_factor) for x in given))
        _sub(u, _S + "coverageProbabilityXMLList", " ".join(_num(x.coverage_probability) for x in given))
        dists = [x.distribution for x in given]
        if all(dists):
            _sub(u, _S + "distributionXMLList", " ".join(str(d) for d in dists))


def _representation(parent: etree._Element, values: Sequence[RealQuantity]) -> None:
    if len(values) == 1:
        _real(parent, values[0])
    else:
        _real_list(parent, values)


def _quantity(parent: etree._Element, q: Quantity) -> None:
    el = _sub(parent, _D + "quantity", refType=q.ref_type)  # type: ignore[arg-type]
    _text(el, "name", q.name)
    if q.values and q.alternatives:
        hybrid = _sub(el, _S + "hybrid")
        for rep in (q.values, *q.alternatives):
            _representation(hybrid, rep)
    elif q.values:
        _representation(el, q.values)
    else:
        _text(el, "noQuantity", q.text or Text.plain("-"))
    if q.conformity:
        meta = _sub(_sub(el, _D + "measurementMetaData"), _D + "metaData", refType="basic_conformity")
        if len(q.conformity) == 1:
            _sub(meta, _D + "conformity", q.conformity[0])
        else:
            _sub(meta, _D + "conformityXMLList", " ".join(q.conformity))


def _statement(parent: etree._Element, s: Statement) -> None:
    el = _sub(parent, _D + "statement", refType=s.ref_type)  # type: ignore[arg-type]
    for norm in s.norms:
        _sub(el, _D + "norm", norm)
    if s.declaration is not None:
        _text(el, "declaration", s.declaration)
    if s.date is not None:
        _sub(el, _D + "date", s.date.isoformat())
    if s.conformity is not None:
        _sub(el, _D + "conformity", s.conformity)


def _item(parent: etree._Element, item: Item) -> None:
    el = _sub(parent, _D + "item")
    _text(el, "name", item.name)
    _text(_sub(el, _D + "manufacturer"), "name", Text.plain(item.manufacturer))
    if item.model:
        _sub(el, _D + "model", item.model)
    _identifications(el, item.identifications)
    if item.quantities:
        quantities = _sub(el, _D + "itemQuantities")
        for q in item.quantities:
            iq = _sub(quantities, _D + "itemQuantity", refType=q.ref_type)  # type: ignore[arg-type]
            _text(iq, "name", q.name)
            if q.values:
                _real(iq, q.values[0])
            else:
                _text(iq, "noQuantity", q.text or Text.plain("-"))


def _measurement_result(parent: etree._Element, mr: MeasurementResult) -> None:
    el = _sub(parent, _D + "measurementResult")
    _text(el, "name", mr.name)
    if mr.used_methods:
        methods = _sub(el, _D + "usedMethods")
        for m in mr.used_methods:
            um = _sub(methods, _D + "usedMethod")
            _text(um, "name", m.name)
            for norm in m.norms:
                _sub(um, _D + "norm", norm)
    if mr.measuring_equipments:
        equipments = _sub(el, _D + "measuringEquipments")
        for e in mr.measuring_equipments:
            me = _sub(equipments, _D + "measuringEquipment", refType=e.ref_type)  # type: ignore[arg-type]
            _text(me, "name", e.name)
            if e.identifications:
                _identifications(me, e.identifications)
    results = _sub(el, _D + "results")
    for r in mr.results:
        res = _sub(results, _D + "result", refType=r.ref_type)  # type: ignore[arg-type]
        _text(res, "name", r.name)
        data = _sub(res, _D + "data")
        for t in r.texts:
            _text(data, "text", t)
        for q in r.quantities:
            _quantity(data, q)


def to_tree(cert: DccCertificate) -> etree._Element:
    """The certificate as a DCC 3.2.0 element tree (unvalidated; ``build`` validates)."""
    root = etree.Element(
        _D + "digitalCalibrationCertificate", nsmap={"dcc": DCC_NS, "si": SI_NS, "xsi": XSI_NS}
    )
    # the conventional location hint, as PTB's examples carry it; validators here never follow it
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{DCC_NS} https://ptb.de/dcc/v{WRITTEN_VERSION}/dcc.xsd")
    root.set("schemaVersion", WRITTEN_VERSION)
    admin = _sub(root, _D + "administrativeData")
    sw = _sub(admin, _D + "dccSoftware")
    for soft in cert.software:
        software = _sub(sw, _D + "software")
        _text(software, "name", Text.plain(soft.name))
        _sub(software, _D + "release", soft.release)
    core = cert.core
    cd = _sub(admin, _D + "coreData")
    _sub(cd, _D + "countryCodeISO3166_1", core.country)
    for lang in core.used_languages:
        _sub(cd, _D + "usedLangCodeISO639_1", lang)
    for lang in core.mandatory_languages:
        _sub(cd, _D + "mandatoryLangCodeISO639_1", lang)
    _sub(cd, _D + "uniqueIdentifier", core.unique_identifier)
    if core.identifications:
        _identifications(cd, core.identifications)
    if core.receipt_date:
        _sub(cd, _D + "receiptDate", core.receipt_date.isoformat())
    _sub(cd, _D + "beginPerformanceDate", core.begin_performance.isoformat())
    _sub(cd, _D + "endPerformanceDate", core.end_performance.isoformat())
    _sub(cd, _D + "performanceLocation", core.performance_location)
    if core.issue_date:
        _sub(cd, _D + "issueDate", core.issue_date.isoformat())
    items = _sub(admin, _D + "items")
    for item in cert.items:
        _item(items, item)
    lab = _sub(admin, _D + "calibrationLaboratory")
    if cert.laboratory.code:
        _sub(lab, _D + "calibrationLaboratoryCode", cert.laboratory.code)
    _contact(lab, "contact", cert.laboratory.contact)
    persons = _sub(admin, _D + "respPersons")
    for p in cert.resp_persons:
        rp = _sub(persons, _D + "respPerson")
        _text(_sub(rp, _D + "person"), "name", Text.plain(p.name))
        if p.role:
            _sub(rp, _D + "role", p.role)
        if p.main_signer:
            _sub(rp, _D + "mainSigner", "true")
    _contact(admin, "customer", cert.customer)
    if cert.statements:
        statements = _sub(admin, _D + "statements")
        for s in cert.statements:
            _statement(statements, s)
    results = _sub(root, _D + "measurementResults")
    for mr in cert.measurement_results:
        _measurement_result(results, mr)
    return root


def build(cert: DccCertificate) -> bytes:
    """DCC 3.2.0 XML of the certificate, unsigned, validated against the official schema.

    Nothing follows ``measurementResults``, so a signer can append an enveloped ``ds:Signature`` as the
    root's last child (the only place 3.2.0 allows it) and the document still validates.
    """
    root = to_tree(cert)
    tree = etree.ElementTree(root)
    _check(tree, WRITTEN_VERSION)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


# ------------------------------------------------------------------------------------------ reading


@lru_cache(maxsize=256)
def _steps(path: str) -> tuple[str, ...]:
    """``dcc:a/si:b`` as Clark-notation tag names, one per step."""
    return tuple(f"{{{NS[p.split(':')[0]]}}}{p.split(':')[1]}" for p in path.split("/"))


def _find(el: etree._Element | None, path: str) -> etree._Element | None:
    for tag in _steps(path):
        if el is None:
            return None
        el = next(el.iterchildren(tag), None)
    return el


def _all(el: etree._Element | None, path: str) -> list[etree._Element]:
    """Children along a path of tags; ``iterchildren(tag)`` runs in C, ElementPath would not."""
    if el is None:
        return []
    level = [el]
    for tag in _steps(path):
        level = [c for parent in level for c in parent.iterchildren(tag)]
    return level


def _str(el: etree._Element | None, path: str) -> str | None:
    found = _find(el, path)
    return None if found is None or found.text is None else found.text.strip()


def _date(el: etree._Element | None, path: str) -> date | None:
    s = _str(el, path)
    return date.fromisoformat(s[:10]) if s else None


def _dec(text: str | None, where: str) -> Decimal:
    try:
        return Decimal((text or "").strip())
    except InvalidOperation:
        raise DccInvalid(f"{where} 不是数 / {where} is not a number: {text!r}", field=where) from None


def _read_text(el: etree._Element | None) -> Text | None:
    if el is None:
        return None
    return Text(tuple((c.get("lang"), (c.text or "").strip()) for c in el.iterfind(_D + "content")))


def _read_location(el: etree._Element | None) -> Location | None:
    if el is None:
        return None
    further: list[str] = []
    for f in _all(el, "dcc:further"):
        t = _read_text(f)
        if t is not None:
            further.extend(s for _, s in t.contents)
    return Location(
        city=_str(el, "dcc:city"),
        country_code=_str(el, "dcc:countryCode"),
        post_code=_str(el, "dcc:postCode"),
        state=_str(el, "dcc:state"),
        street=" ".join(filter(None, (_str(el, "dcc:street"), _str(el, "dcc:streetNo")))) or None,
        further=tuple(further),
    )


def _read_contact(el: etree._Element | None) -> Contact:
    return Contact(
        name=_read_text(_find(el, "dcc:name")) or Text(()),
        email=_str(el, "dcc:eMail"),
        phone=_str(el, "dcc:phone"),
        location=_read_location(_find(el, "dcc:location")),
    )


def _read_ids(el: etree._Element | None) -> tuple[Identification, ...]:
    return tuple(
        Identification(
            issuer=_str(i, "dcc:issuer") or "",
            value=_str(i, "dcc:value") or "",
            name=_read_text(_find(i, "dcc:name")),
            ref_type=i.get("refType"),
        )
        for i in _all(el, "dcc:identifications/dcc:identification")
    )


def _read_unc(el: etree._Element | None) -> ExpandedUncertainty | None:
    if el is None:
        return None
    return ExpandedUncertainty(
        uncertainty=_dec(_str(el, "si:uncertainty"), "uncertainty"),
        coverage_factor=_dec(_str(el, "si:coverageFactor"), "coverageFactor"),
        coverage_probability=_dec(_str(el, "si:coverageProbability"), "coverageProbability"),
        distribution=_str(el, "si:distribution"),
    )


def _read_real(el: etree._Element, unit: str | None = None) -> RealQuantity:
    return RealQuantity(
        value=_dec(_str(el, "si:value"), "value"),
        unit=_str(el, "si:unit") or unit or "",
        uncertainty=_read_unc(_find(el, "si:expandedUnc")),
        label=_str(el, "si:label"),
    )


def _spread(text: str | None, n: int) -> list[str]:
    parts = (text or "").split()
    if len(parts) == 1:
        return parts * n
    return parts if len(parts) == n else (parts + [""] * n)[:n]


def _read_xml_list(el: etree._Element) -> tuple[RealQuantity, ...]:
    values = (_str(el, "si:valueXMLList") or "").split()
    n = len(values)
    units = _spread(_str(el, "si:unitXMLList"), n)
    labels_text = _str(el, "si:labelXMLList")
    labels: list[str | None] = list(_spread(labels_text, n)) if labels_text else [None] * n
    unc = _find(el, "si:expandedUncXMLList")
    uncs: list[ExpandedUncertainty | None] = [None] * n
    if unc is not None:
        us = _spread(_str(unc, "si:uncertaintyXMLList"), n)
        ks = _spread(_str(unc, "si:coverageFactorXMLList"), n)
        ps = _spread(_str(unc, "si:coverageProbabilityXMLList"), n)
        dist_text = _str(unc, "si:distributionXMLList")
        ds: list[str | None] = list(_spread(dist_text, n)) if dist_text else [None] * n
        uncs = [
            ExpandedUncertainty(
                _dec(u, "uncertainty"), _dec(k, "coverageFactor"), _dec(p, "coverageProbability"), d
            )
            for u, k, p, d in zip(us, ks, ps, ds, strict=True)
        ]
    return tuple(
        RealQuantity(_dec(v, "value"), u, c, la)
        for v, u, c, la in zip(values, units, uncs, labels, strict=True)
    )


def _read_representation(el: etree._Element) -> tuple[RealQuantity, ...]:
    tag = etree.QName(el).localname
    if tag == "real":
        return (_read_real(el),)
    if tag == "constant":
        return (
            RealQuantity(
                _dec(_str(el, "si:value"), "value"), _str(el, "si:unit") or "", None, _str(el, "si:label")
            ),
        )
    if tag == "realListXMLList":
        return _read_xml_list(el)
    if tag == "realList":
        unit = _str(el, "si:listUnit")
        return tuple(_read_real(r, unit) for r in _all(el, "si:real"))
    if tag == "list":
        out: list[RealQuantity] = []
        for child in el:
            if isinstance(child.tag, str) and etree.QName(child).localname in {"realList", "list"}:
                out.extend(_read_representation(child))
        return tuple(out)
    return ()  # complex quantities are kept as their name only


def _read_quantity(el: etree._Element) -> Quantity:
    values: tuple[RealQuantity, ...] = ()
    alternatives: list[tuple[RealQuantity, ...]] = []
    text = _read_text(_find(el, "dcc:noQuantity"))
    for child in el:
        if not isinstance(child.tag, str) or not child.tag.startswith(_S):
            continue
        if etree.QName(child).localname == "hybrid":
            reps = [_read_representation(c) for c in child if isinstance(c.tag, str)]
            values, alternatives = (reps[0], reps[1:]) if reps else ((), [])
        else:
            values = _read_representation(child)
    chars = _str(el, "dcc:charsXMLList")
    if chars and text is None:
        text = Text.plain(chars)
    conformity: tuple[str, ...] = ()
    meta_quantities: list[Quantity] = []
    for meta in _all(el, "dcc:measurementMetaData/dcc:metaData"):
        single = _str(meta, "dcc:conformity")
        many = _str(meta, "dcc:conformityXMLList")
        if single or many:
            conformity = (single,) if single else tuple((many or "").split())
        label = _read_text(_find(meta, "dcc:declaration/dcc:name")) or _read_text(
            _find(meta, "dcc:declaration")
        )
        for q in _quantities_in(_find(meta, "dcc:data")):
            # A nameless quantity (PTB's calibration point) is named by its metaData's declaration.
            meta_quantities.append(q if q.name.contents or label is None else replace(q, name=label))
    return Quantity(
        name=_read_text(_find(el, "dcc:name")) or Text(()),
        values=values,
        text=text,
        ref_type=el.get("refType"),
        alternatives=tuple(alternatives),
        conformity=conformity,
        meta=tuple(meta_quantities),
    )


def _quantities_in(data: etree._Element | None) -> Iterable[Quantity]:
    """Quantities of a ``dcc:data``, lists flattened in document order."""
    if data is None:
        return
    for child in data:
        if not isinstance(child.tag, str):
            continue
        if child.tag == _D + "quantity":
            yield _read_quantity(child)
        elif child.tag == _D + "list":
            yield from _quantities_in(child)


def _read_result(el: etree._Element) -> Result:
    data = _find(el, "dcc:data")
    texts = tuple(t for t in (_read_text(x) for x in _all(data, "dcc:text")) if t is not None)
    return Result(
        name=_read_text(_find(el, "dcc:name")) or Text(()),
        quantities=tuple(_quantities_in(data)),
        texts=texts,
        ref_type=el.get("refType"),
    )


def _read_measurement_result(el: etree._Element) -> MeasurementResult:
    return MeasurementResult(
        name=_read_text(_find(el, "dcc:name")) or Text(()),
        results=tuple(_read_result(r) for r in _all(el, "dcc:results/dcc:result")),
        used_methods=tuple(
            UsedMethod(
                name=_read_text(_find(m, "dcc:name")) or Text(()),
                norms=tuple((n.text or "").strip() for n in _all(m, "dcc:norm")),
            )
            for m in _all(el, "dcc:usedMethods/dcc:usedMethod")
        ),
        measuring_equipments=tuple(
            MeasuringEquipment(
                name=_read_text(_find(e, "dcc:name")) or Text(()),
                identifications=_read_ids(e),
                ref_type=e.get("refType"),
            )
            for e in _all(el, "dcc:measuringEquipments/dcc:measuringEquipment")
        ),
        influence_conditions=tuple(
            InfluenceCondition(
                name=_read_text(_find(c, "dcc:name")) or Text(()),
                quantities=tuple(_quantities_in(_find(c, "dcc:data"))),
                ref_type=c.get("refType"),
            )
            for c in _all(el, "dcc:influenceConditions/dcc:influenceCondition")
        ),
    )


def _read_item(el: etree._Element) -> Item:
    manufacturer = _read_text(_find(el, "dcc:manufacturer/dcc:name"))
    quantities = []
    for iq in _all(el, "dcc:itemQuantities/dcc:itemQuantity"):
        real = _find(iq, "si:real")
        quantities.append(
            Quantity(
                name=_read_text(_find(iq, "dcc:name")) or Text(()),
                values=(_read_real(real),) if real is not None else (),
                text=_read_text(_find(iq, "dcc:noQuantity")),
                ref_type=iq.get("refType"),
            )
        )
    return Item(
        name=_read_text(_find(el, "dcc:name")) or Text(()),
        manufacturer=str(manufacturer) if manufacturer else "",
        identifications=_read_ids(el),
        model=_str(el, "dcc:model"),
        quantities=tuple(quantities),
    )


def _read_statement(el: etree._Element) -> Statement:
    return Statement(
        declaration=_read_text(_find(el, "dcc:declaration")),
        ref_type=el.get("refType"),
        norms=tuple((n.text or "").strip() for n in _all(el, "dcc:norm")),
        conformity=_str(el, "dcc:conformity"),
        date=_date(el, "dcc:date"),
    )


def _from_tree(root: etree._Element, version: str) -> DccCertificate:
    admin = _find(root, "dcc:administrativeData")
    core = _find(admin, "dcc:coreData")
    lab = _find(admin, "dcc:calibrationLaboratory")
    persons = []
    for p in _all(admin, "dcc:respPersons/dcc:respPerson"):
        name = _read_text(_find(p, "dcc:person/dcc:name"))
        persons.append(
            RespPerson(
                name=str(name) if name else "",
                role=_str(p, "dcc:role"),
                main_signer=_str(p, "dcc:mainSigner") in {"true", "1"},
            )
        )
    begin = _date(core, "dcc:beginPerformanceDate")
    end = _date(core, "dcc:endPerformanceDate")
    if begin is None or end is None:  # pragma: no cover - required by every release's schema
        raise DccInvalid("缺少校准日期 / performance dates missing", field="coreData")
    return DccCertificate(
        software=tuple(
            Software(name=str(_read_text(_find(s, "dcc:name")) or ""), release=_str(s, "dcc:release") or "")
            for s in _all(admin, "dcc:dccSoftware/dcc:software")
        ),
        core=CoreData(
            country=_str(core, "dcc:countryCodeISO3166_1") or "",
            used_languages=tuple((e.text or "").strip() for e in _all(core, "dcc:usedLangCodeISO639_1")),
            mandatory_languages=tuple(
                (e.text or "").strip() for e in _all(core, "dcc:mandatoryLangCodeISO639_1")
            ),
            unique_identifier=_str(core, "dcc:uniqueIdentifier") or "",
            begin_performance=begin,
            end_performance=end,
            performance_location=_str(core, "dcc:performanceLocation") or "laboratory",
            identifications=_read_ids(core),
            receipt_date=_date(core, "dcc:receiptDate"),
            issue_date=_date(core, "dcc:issueDate"),
        ),
        items=tuple(_read_item(i) for i in _all(admin, "dcc:items/dcc:item")),
        laboratory=Laboratory(
            contact=_read_contact(_find(lab, "dcc:contact")), code=_str(lab, "dcc:calibrationLaboratoryCode")
        ),
        customer=_read_contact(_find(admin, "dcc:customer")),
        resp_persons=tuple(persons),
        measurement_results=tuple(
            _read_measurement_result(m) for m in _all(root, "dcc:measurementResults/dcc:measurementResult")
        ),
        statements=tuple(_read_statement(s) for s in _all(admin, "dcc:statements/dcc:statement")),
        schema_version=version,
        signed=_find(root, "ds:Signature") is not None,
    )


def parse(xml: bytes, *, validated: bool = True) -> DccCertificate:
    """Read a DCC of any release 3.0.0–3.2.0; validates it first (``validated=False`` only for a caller
    that has just validated the same bytes)."""
    tree = read_untrusted(xml)
    root = tree.getroot()
    version = _version_of(root)
    if validated:
        _check(tree, version)
    return _from_tree(root, version)


def content(cert: DccCertificate) -> dict[str, Any]:
    """A plain summary (JSON-ready) of what a certificate says, for the CLI and the API."""
    lab = cert.laboratory.contact.name
    return {
        "schema_version": cert.schema_version,
        "unique_identifier": cert.core.unique_identifier,
        "country": cert.core.country,
        "issue_date": cert.core.issue_date.isoformat() if cert.core.issue_date else None,
        "performance": [cert.core.begin_performance.isoformat(), cert.core.end_performance.isoformat()],
        "laboratory": str(lab),
        "laboratory_code": cert.laboratory.code,
        "customer": str(cert.customer.name),
        "items": [
            {
                "name": str(i.name),
                "manufacturer": i.manufacturer,
                "model": i.model,
                "identifications": {
                    (str(x.name) if x.name else x.issuer): x.value for x in i.identifications
                },
            }
            for i in cert.items
        ],
        "conformity": cert.conformity,
        "statements": [
            {
                "ref_type": s.ref_type,
                "declaration": str(s.declaration) if s.declaration else None,
                "conformity": s.conformity,
                "date": s.date.isoformat() if s.date else None,
            }
            for s in cert.statements
        ],
        "results": [
            {
                "measurement_result": str(mr.name),
                "result": str(r.name),
                **_quantity_content(q),
                "conformity": list(q.conformity),
                # The same values in the other units of a D-SI hybrid (e.g. kelvin and degree Celsius).
                "alternatives": [[_value_content(v) for v in rep] for rep in q.alternatives],
                # What its metaData states: acceptance limits, the nominal calibration point, …
                "meta": [{"ref_type": m.ref_type, **_quantity_content(m)} for m in q.meta],
            }
            for mr in cert.measurement_results
            for r in mr.results
            for q in r.quantities
        ],
        "influence_conditions": [
            {
                "measurement_result": str(mr.name),
                "condition": str(c.name),
                "ref_type": c.ref_type,
                "quantities": [{"ref_type": q.ref_type, **_quantity_content(q)} for q in c.quantities],
            }
            for mr in cert.measurement_results
            for c in mr.influence_conditions
        ],
        "signed": cert.signed,
    }


def _value_content(v: RealQuantity) -> dict[str, Any]:
    return {
        "value": str(v.value),
        "unit": v.unit,
        "expanded_uncertainty": str(v.uncertainty.uncertainty) if v.uncertainty else None,
        "coverage_factor": str(v.uncertainty.coverage_factor) if v.uncertainty else None,
        "coverage_probability": str(v.uncertainty.coverage_probability) if v.uncertainty else None,
    }


def _quantity_content(q: Quantity) -> dict[str, Any]:
    return {
        "quantity": str(q.name),
        "values": [_value_content(v) for v in q.values],
        "text": str(q.text) if q.text else None,
    }
