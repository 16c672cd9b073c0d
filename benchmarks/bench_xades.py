"""XAdES B-B signing and verification of a DCC, against baselines measured in the same run.

    python benchmarks/bench_xades.py --seconds 5

The document is PTB's good-practice example DCC (15 kB) declared as 3.2.0. Measured:
- ours, ECDSA P-256: ``trust.xades.sign`` and ``trust.xades.verify`` (signature, three reference digests,
  signed certificate digest, chain to the root at the signing time);
- ours, RSA-3072: the same calls with the other key type the issue allows;
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


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed


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
    figures: dict[str, tuple[float, float]] = {}
    for algorithm in ("ecdsa-p256", "rsa-3072"):
        lab = make_lab(root, code, algorithm=algorithm)
        signed = xades.sign(doc, lab.key, lab.chain, when)
        assert xades.verify(signed, [root.certificate]).valid
        figures[f"XAdES B-B, {algorithm}"] = (
            rate(lambda lab=lab: xades.sign(doc, lab.key, lab.chain, when), args.seconds),
            rate(lambda signed=signed: xades.verify(signed, [root.certificate]), args.seconds),
        )

    lab = make_lab(root, code)
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

    base_sign, base_verify = figures["baseline: signxml plain XML-DSig, ecdsa-p256"]
    print(f"document: {len(doc):,} bytes; {args.seconds:g} s per figure")
    print(f"{'':48} {'signatures/s':>13} {'verifications/s':>16} {'sign ms':>8} {'verify ms':>10}")
    for name, (s, v) in figures.items():
        print(f"{name:48} {s:13,.0f} {v:16,.0f} {1000 / s:8.2f} {1000 / v:10.2f}")
    ours_s, ours_v = figures["XAdES B-B, ecdsa-p256"]
    print(
        f"ECDSA XAdES vs plain XML-DSig baseline: signing {ours_s / base_sign:.2f}×, "
        f"verifying {ours_v / base_verify:.2f}× the baseline's rate"
    )
    rsa_s, rsa_v = figures["XAdES B-B, rsa-3072"]
    print(f"ECDSA vs RSA-3072 (XAdES): signing {ours_s / rsa_s:.1f}×, verifying {ours_v / rsa_v:.2f}×")
    print(
        f"targets: verify ≥ 300/s: {'met' if ours_v >= 300 else 'NOT met'} ({ours_v:,.0f}/s); signing takes "
        f"{100 / ours_s * 100:.0f}% of the 10 ms per certificate that 100 certificates/s allow"
    )


if __name__ == "__main__":
    main()
