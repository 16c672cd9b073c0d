"""Certificates per second: issue (build DCC + validate against the XSD + XAdES-sign + store + queue for
the log) and verify (schema + signature + issuer + digest + tree head + inclusion), on a demo city.

    python benchmarks/bench_certificates.py --instruments 20000 --certificates 1000
    targets (issue 3): issue ≥ 100/s, verify ≥ 300/s

Baseline, same run, same documents: schema validation with the pure-Python ``xmlschema`` package (what a
project without lxml would use) in place of lxml's libxml2 validator, for one step of each pipeline.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_db_arguments, open_or_build

from jiliang.demo import verification_data
from jiliang.domain.access import SYSTEM
from jiliang.services import certificates, signing_keys, transparency
from jiliang.store.models import Certificate, VerificationRecord
from jiliang.trust import certificate_check


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_db_arguments(parser, default_instruments=20_000)
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=50)
    args = parser.parse_args()
    platform = open_or_build(args)
    n = args.certificates
    # Only a record written by the approval of a verification with data (检定员 → 核验员 → 批准人) may carry
    # a certificate: sign off that many scales first (untimed).
    t0 = time.perf_counter()
    ids = verification_data.sign_off(platform, n, prefix=f"JD-BENCH-{int(time.time())}")
    print(f"set-up: {len(ids):,} verifications with data signed off in {time.perf_counter() - t0:.1f} s (untimed)")
    if not ids:
        raise SystemExit("the demo database has no signatories or no due scales to verify")
    with platform.unit_of_work(SYSTEM) as s:  # keys exist before timing: issuing one is a one-off
        for inst in {
            r
            for r in s.scalars(
                select(VerificationRecord.institution_id).where(VerificationRecord.id.in_(ids))
            )
        }:
            signing_keys.ensure_institution_key(s, platform.settings, inst)

    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    for start in range(0, len(ids), 200):
        done += certificates.issue_many(platform, SYSTEM, ids[start : start + 200])
    issue_s, issue_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"issue (build + XSD + sign + store + queue): {done:,} in {issue_s:.2f} s = {done / issue_s:,.0f}/s (target ≥ 100/s)"
    )
    print(
        f"  (CPU of this process: {done / issue_cpu:,.0f} per CPU-second — what the machine's other load does not change)"
    )

    t0 = time.perf_counter()
    with platform.unit_of_work(SYSTEM) as s:
        transparency.sequence(s)
        transparency.publish_checkpoint(s, platform.settings)
    print(f"sequence + checkpoint: {time.perf_counter() - t0:.2f} s")

    with platform.reading() as s:
        rows = list(
            s.execute(select(Certificate.number, Certificate.document).where(Certificate.record_id.in_(ids)))
        )
        key = transparency.log_public_key(s, platform.settings)
        roots = signing_keys.trusted_roots(s, platform.settings)
    bundles = [certificates.bundle(platform, number) for number, _ in rows]

    t0, c0 = time.perf_counter(), time.process_time()
    ok = sum(
        certificate_check.check_certificate(doc, b, log_key=key, trusted_roots=roots).valid
        for (_, doc), b in zip(rows, bundles, strict=True)
    )
    offline_s, offline_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert ok == len(rows), f"only {ok} of {len(rows)} verified"
    print(
        f"verify offline (all 7 checks): {len(rows):,} in {offline_s:.2f} s = {len(rows) / offline_s:,.0f}/s (target ≥ 300/s)"
    )
    print(f"  (CPU of this process: {len(rows) / offline_cpu:,.0f} per CPU-second)")

    t0 = time.perf_counter()
    online = sum(certificates.verify_upload(platform, doc).report.valid for _, doc in rows[:200])
    online_s = time.perf_counter() - t0
    print(
        f"verify online (+ register lookup and proof from storage): {online:,} in {online_s:.2f} s = {online / online_s:,.0f}/s"
    )

    import xmlschema

    from jiliang.trust import dcc

    sample = [doc for _, doc in rows[: args.baseline_sample]]
    data = dcc.data_dir()
    schema = xmlschema.XMLSchema(
        str(data / "v3.2.0" / "dcc.xsd"),
        uri_mapper={url: (data / local).as_uri() for url, local in dcc._LOCAL.items()},
        allow="local",
    )
    t0 = time.perf_counter()
    for doc in sample:
        schema.validate(doc.decode())
    xs = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    for doc in sample:
        dcc.validate(doc)
    lx = (time.perf_counter() - t0) / len(sample)
    print(
        f"baseline: XSD validation per document, xmlschema {xs * 1000:.1f} ms vs lxml {lx * 1000:.2f} ms = {xs / lx:,.0f}×"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(json.dumps({"issue_per_s": done / issue_s, "verify_offline_per_s": len(rows) / offline_s}))


if __name__ == "__main__":
    main()
