"""XAdES B-B signing and verification of a DCC, against baselines measured in the same run.

    python benchmarks/bench_xades.py --seconds 5

The document is PTB's good-practice example DCC (15 kB) declared as 3.2.0. Measured:
- ours, ECDSA P-256: ``trust.xades.sign`` and ``trust.xades.verify`` (signature, three reference digests,
  signed certificate digest, chain to the root at the signing time);
- ours, RSA-3072: the same calls with the other key type the issue allows;
- baseline: signxml's XMLVerifier on the same XAdES DCC (signature and three reference digests only;
  it parses the document again for each reference), i.e. what ``verify`` cost before its one-parse path;
- baseline: signxml's plain enveloped XML-DSig (XMLSigner / XMLVerifier with the certificate given, no
  XAdES properties, no chain building), i.e. the least a signature costs with the same library.
Targets (issue 3): the signature's share of ≥ 100 certificates/s (generate + validate + sign), and
≥ 300 verifications/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier
from tests.xades_support import T0, dcc_320, make_lab, make_root

from jiliang.domain.credit_code import make_credit_code
from jiliang.trust import xades


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls per second of wall time, and per second of this process's CPU time (on a shared machine
    the second is what one core would do alone)."""
    fn()  # warm
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed, n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per figure")
    args = parser.parse_args()
    doc = dcc_320()
    root = make_root()
    when = T0 + timedelta(days=10)
    code = make_credit_code("12330100MB0000001")
    figures: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
    for algorithm in ("ecdsa-p256", "rsa-3072"):
        lab = make_lab(root, code, algorithm=algorithm)
        signed = xades.sign(doc, lab.key, lab.chain, when)
        assert xades.verify(signed, [root.certificate]).valid
        figures[f"XAdES B-B, {algorithm}"] = (
            rate(lambda lab=lab: xades.sign(doc, lab.key, lab.chain, when), args.seconds),
            rate(lambda signed=signed: xades.verify(signed, [root.certificate]), args.seconds),
        )

    lab = make_lab(root, code)
    ours = xades.sign(doc, lab.key, lab.chain, when)
    three = SignatureConfiguration(location="./", expect_references=3, verification_time=when)
    figures["baseline: signxml XMLVerifier, same XAdES DCC"] = (
        (float("nan"), float("nan")),
        rate(
            lambda: XMLVerifier().verify(ours, x509_cert=lab.certificate, expect_config=three), args.seconds
        ),
    )
    config = SignatureConfiguration(location="./", verification_time=when)

    def plain_sign() -> bytes:
        signer = XMLSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256)
        out: bytes = etree.tostring(signer.sign(etree.fromstring(doc), key=lab.key, cert=lab.chain))
        return out

    plain = plain_sign()
    XMLVerifier().verify(plain, x509_cert=lab.certificate, expect_config=config)
    figures["baseline: signxml plain XML-DSig, ecdsa-p256"] = (
        rate(plain_sign, args.seconds),
        rate(
            lambda: XMLVerifier().verify(plain, x509_cert=lab.certificate, expect_config=config), args.seconds
        ),
    )

    print(
        f"document: {len(doc):,} bytes; {args.seconds:g} s per figure; rates per wall second (per CPU second)"
    )
    print(f"{'':46} {'signatures/s':>18} {'verifications/s':>18} {'sign ms CPU':>12} {'verify ms CPU':>14}")
    for name, ((sw, sc), (vw, vc)) in figures.items():
        signing = f"{sw:7,.0f} ({sc:6,.0f})" if sw == sw else f"{'—':>16}"  # nan: not measured
        sign_ms = f"{1000 / sc:12.2f}" if sc == sc else f"{'—':>12}"
        print(f"{name:46} {signing} {vw:9,.0f} ({vc:6,.0f}) {sign_ms} {1000 / vc:14.2f}")
    (ours_s, ours_sc), (ours_v, ours_vc) = figures["XAdES B-B, ecdsa-p256"]
    (rsa_s, _), (rsa_v, _) = figures["XAdES B-B, rsa-3072"]
    (base_s, _), (base_v, _) = figures["baseline: signxml plain XML-DSig, ecdsa-p256"]
    print(
        f"ECDSA XAdES vs plain XML-DSig baseline: signing {ours_s / base_s:.2f}×, "
        f"verifying {ours_v / base_v:.2f}× the baseline's rate"
    )
    (_, _), (sx_v, _) = figures["baseline: signxml XMLVerifier, same XAdES DCC"]
    print(
        f"our verify (core validation + XAdES checks + chain) vs signxml's verifier on the same document "
        f"(core validation only): {ours_v / sx_v:.2f}×"
    )
    print(f"ECDSA vs RSA-3072 (XAdES): signing {ours_s / rsa_s:.1f}×, verifying {ours_v / rsa_v:.2f}×")
    print(
        f"targets: verify ≥ 300/s per core: {'met' if ours_vc >= 300 else 'NOT met'} ({ours_vc:,.0f}/CPU s, "
        f"{ours_v:,.0f}/wall s); signing takes {100 / ours_sc * 100:.0f}% of the 10 ms of CPU per certificate "
        "that 100 certificates/s allow on one core"
    )


if __name__ == "__main__":
    main()
