"""Digital calibration certificates: build + validate against the official DCC 3.2.0 XSD, per second.

    python benchmarks/bench_dcc.py --certificates 500

Builds ``--certificates`` distinct certificates of the shape ``services.dcc_records`` writes for a
verification record (laboratory, customer, item with its measuring range as D-SI quantities, conformity
and recalibration statements, a verification conclusion with the MPE as a D-SI quantity) plus a calibration
result of three D-SI values with expanded uncertainties, and times:

- ``dcc.build`` (serialise and validate with lxml/libxml2 against the packaged 3.2.0 schema, compiled once
  per thread), the figure that counts toward the issue's "generate, validate and sign ≥ 100/s";
- ``dcc.validate`` of the same bytes (untrusted parse + validation) and ``dcc.parse`` (parse, validate, read);
- baseline, in the same run: validating the same bytes with the ``xmlschema`` package (pure Python, the
  same packaged schema files mapped offline), the other validator a Python project would reach for.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import xmlschema  # noqa: E402

from jiliang.trust import dcc  # noqa: E402
from jiliang.trust.dcc_model import (  # noqa: E402
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


def certificate(n: int) -> DccCertificate:
    day = date(2026, 1, 1) + timedelta(days=n % 365)
    unc = ExpandedUncertainty(Decimal("0.004"), Decimal("2"), Decimal("0.95"), "normal")
    return DccCertificate(
        software=(Software("jiliang", "0.1.0"),),
        core=CoreData(
            country="CN",
            used_languages=("zh", "en"),
            mandatory_languages=("zh",),
            unique_identifier=f"DCC-2026-{n:07d}",
            begin_performance=day,
            end_performance=day,
            performance_location="other",
            identifications=(
                Identification(
                    "calibrationLaboratory",
                    f"JD-{n}",
                    Text.of("检定记录编号", "record number"),
                    "jiliang_documentNo",
                ),
                Identification("calibrationLaboratory", "12339900MB0000001X", None, "jiliang_creditCode"),
            ),
            issue_date=day,
        ),
        items=(
            Item(
                name=Text.of("燃油加油机", "fuel dispenser"),
                manufacturer="示例制造有限公司",
                model="CS-2",
                identifications=(
                    Identification("manufacturer", f"SN-{n:08d}", Text.of("出厂编号", "serial number")),
                ),
                quantities=(
                    Quantity(
                        Text.of("测量范围下限", "range, lower"),
                        (RealQuantity(Decimal(5), "\\litre\\minute\\tothe{-1}"),),
                    ),
                    Quantity(
                        Text.of("测量范围上限", "range, upper"),
                        (RealQuantity(Decimal(60), "\\litre\\minute\\tothe{-1}"),),
                    ),
                ),
            ),
        ),
        laboratory=Laboratory(
            Contact(Text.plain("演示市计量检定测试院"), location=Location(city="演示市", country_code="CN")),
            "12339900MB0000001X",
        ),
        customer=Contact(Text.plain(f"加油站 {n}"), location=Location(city="东城区", country_code="CN")),
        resp_persons=(RespPerson("张检定", "检定员", True),),
        measurement_results=(
            MeasurementResult(
                name=Text.of("检定结果", "verification results"),
                used_methods=(UsedMethod(Text.of("检定规程", "regulation"), ("JJG 443-2023",)),),
                measuring_equipments=(
                    MeasuringEquipment(Text.plain("燃油加油机检定装置"), (), "basic_normalUsed"),
                ),
                results=(
                    Result(
                        Text.of("示值误差", "error of indication"),
                        (
                            Quantity(
                                Text.of("示值误差", "error"),
                                tuple(
                                    RealQuantity(Decimal(f"0.{(n + i) % 9 + 1}"), "\\percent", unc)
                                    for i in range(3)
                                ),
                                conformity=("pass", "pass", "pass"),
                            ),
                        ),
                    ),
                    Result(
                        Text.of("检定结论", "conclusion"),
                        (
                            Quantity(
                                Text.of("检定结论", "conclusion"),
                                text=Text.of("合格", "pass"),
                                conformity=("pass",),
                            ),
                            Quantity(
                                Text.of("最大允许误差", "MPE"), (RealQuantity(Decimal("0.3"), "\\percent"),)
                            ),
                        ),
                    ),
                ),
            ),
        ),
        statements=(
            Statement(
                Text.of("符合 JJG 443-2023", "conforms"), "basic_conformity", ("JJG 443-2023",), "pass"
            ),
            Statement(
                Text.of("有效期至", "valid until"), "basic_recalibration", date=day + timedelta(days=182)
            ),
        ),
    )


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--certificates", type=int, default=500)
    parser.add_argument(
        "--baseline", type=int, default=100, help="documents the xmlschema baseline validates"
    )
    args = parser.parse_args()

    certs = [certificate(n) for n in range(args.certificates)]
    t0 = time.perf_counter()
    dcc.schema(dcc.WRITTEN_VERSION)
    compile_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    docs = [dcc.build(c) for c in certs]
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for d in docs:
        dcc.validate(d)
    validate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    parsed = [dcc.parse(d) for d in docs]
    parse_s = time.perf_counter() - t0
    assert all(p == replace(c, schema_version="3.2.0") for p, c in zip(parsed, certs, strict=True))

    data = dcc.data_dir()
    t0 = time.perf_counter()
    reference = xmlschema.XMLSchema(
        str(data / "v3.2.0" / "dcc.xsd"),
        uri_mapper={url: (data / local).as_uri() for url, local in dcc._LOCAL.items()},
        allow="local",
    )
    ref_compile_s = time.perf_counter() - t0
    sample = [d.decode("utf-8") for d in docs[: args.baseline]]
    t0 = time.perf_counter()
    for d in sample:
        reference.validate(d)
    ref_s = time.perf_counter() - t0

    size = sum(len(d) for d in docs) / len(docs)
    print(f"certificates: {len(docs):,}, mean size {size / 1024:.1f} KiB")
    print(f"schema compile: lxml {compile_s * 1000:.0f} ms, xmlschema {ref_compile_s * 1000:.0f} ms (once)")
    build = rate(len(docs), build_s)
    validate = rate(len(docs), validate_s)
    baseline = rate(len(sample), ref_s)
    print(f"build + validate (dcc.build):        {build:8,.0f} certificates/s")
    print(f"validate untrusted (dcc.validate):   {validate:8,.0f} certificates/s")
    print(f"parse + validate + read (dcc.parse): {rate(len(docs), parse_s):8,.0f} certificates/s")
    print(f"baseline xmlschema validate:         {baseline:8,.0f} certificates/s")
    print(f"ratio validate lxml / xmlschema:     {validate / baseline:8.1f}x")
    print(f"ratio build+validate / xmlschema validate only: {build / baseline:.1f}x")


if __name__ == "__main__":
    main()
