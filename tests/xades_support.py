"""A small PKI and a DCC 3.2.0 document for the signature tests.

The document is PTB's good-practice example (src/jiliang/data/dcc/examples, schema 3.1.1) declared as
3.2.0, which it also satisfies; the 3.2.0 schema is what allows ``ds:Signature`` as the root's last child.
Schemas load from the package only (an lxml resolver maps the web addresses, SOURCES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree

from jiliang.trust import keys

DCC_DIR = Path(__file__).parents[1] / "src" / "jiliang" / "data" / "dcc"
LOCAL = {
    "https://ptb.de/si/v2.1.0/SI_Format.xsd": DCC_DIR / "dsi" / "v2.1.0" / "SI_Format.xsd",
    "https://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd": DCC_DIR
    / "xmldsig"
    / "xmldsig-core-schema.xsd",
}
T0 = datetime(2020, 1, 1, tzinfo=UTC)


class _Local(etree.Resolver):  # type: ignore[misc]
    def resolve(self, url: str, pubid: Any, context: Any) -> Any:
        if url in LOCAL:
            return self.resolve_filename(str(LOCAL[url]), context)
        if url.startswith(("http://", "https://")):
            raise AssertionError(f"schema validation tried to reach the network: {url}")
        return None


@cache
def dcc_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Local())
    return etree.XMLSchema(etree.parse(str(DCC_DIR / "v3.2.0" / "dcc.xsd"), parser))


def schema_errors(xml: bytes) -> list[str]:
    schema = dcc_schema()
    ok = schema.validate(etree.fromstring(xml))
    return [] if ok else [str(e) for e in schema.error_log]


@cache
def dcc_320() -> bytes:
    raw = (DCC_DIR / "examples" / "dcc_gp_temperature_simplified_v12.xml").read_bytes()
    return raw.replace(b'schemaVersion="3.1.1"', b'schemaVersion="3.2.0"').replace(
        b"https://ptb.de/dcc/v3.1.1/dcc.xsd", b"https://ptb.de/dcc/v3.2.0/dcc.xsd"
    )


@dataclass(frozen=True)
class Lab:
    """An institution with its key, certificate and chain, under a root."""

    root: keys.RootCA
    key: keys.PrivateKey
    certificate: x509.Certificate
    credit_code: str

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.certificate, self.root.certificate]


def make_root(t0: datetime = T0, name: str = "test root") -> keys.RootCA:
    return keys.create_root_ca(
        keys.generate_key(), common_name=name, organisation="jiliang test", not_before=t0
    )


def make_lab(
    root: keys.RootCA,
    credit_code: str,
    *,
    name: str = "演示市计量检定测试院",
    not_before: datetime = T0,
    valid_days: int = 365,
    algorithm: str = "ecdsa-p256",
) -> Lab:
    key = keys.generate_key(algorithm)
    cert = keys.issue_institution_certificate(
        key.public_key(),
        issuer=root,
        name=name,
        credit_code=credit_code,
        not_before=not_before,
        valid_days=valid_days,
    )
    return Lab(root, key, cert, credit_code)


DAY = timedelta(days=1)
