"""Tables. One model for SQLite and PostgreSQL; the schema itself lives in Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so that migrations are the same on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT ids on PostgreSQL, but INTEGER on SQLite where only "INTEGER PRIMARY KEY" is the rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Audited:
    """Mixin: every insert, update and delete of these rows is written to ``audit_log``."""

    __audited__: ClassVar[bool] = True
    __audit_exclude__: ClassVar[frozenset[str]] = frozenset()


class Region(Base, Audited):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("regions.code"), index=True)


class Organisation(Base, Audited):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)  # ix_organisations_kind (0007)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CatalogueVersion(Base, Audited):
    __tablename__ = "catalogue_versions"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # In force from this date until a later version's date (None: loaded, not activated). Migration 0011.
    active_from: Mapped[date | None] = mapped_column(Date)
    source_name: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    # migration 0022: when this version, in force, had the instruments' compulsory flag recomputed, and
    # what changed (services.catalogue.apply_compulsory); NULL: not yet applied
    compulsory_applied_on: Mapped[date | None] = mapped_column(Date)
    compulsory_changes: Mapped[str] = mapped_column(Text, default="", server_default="")


class CatalogueItemRow(Base):
    __tablename__ = "catalogue_items"
    __table_args__ = (UniqueConstraint("version", "item_code", name="uq_catalogue_items_version_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(40), ForeignKey("catalogue_versions.version"))
    item_code: Mapped[str] = mapped_column(String(10))
    level1_no: Mapped[int] = mapped_column(Integer)
    level1_zh: Mapped[str] = mapped_column(String(100))
    level1_en: Mapped[str] = mapped_column(String(200))
    level2_zh: Mapped[str] = mapped_column(String(100))
    level2_en: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(4))
    effective_from: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class CatalogueRuleRow(Base):
    __tablename__ = "catalogue_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalogue_items.id"), index=True)
    form: Mapped[str | None] = mapped_column(String(20))
    period_months: Mapped[int | None] = mapped_column(Integer)
    service_life_months: Mapped[int | None] = mapped_column(Integer)
    regulation: Mapped[str] = mapped_column(String(100), default="")
    size_parameter: Mapped[str] = mapped_column(String(10), default="")
    size_min_exclusive: Mapped[float | None] = mapped_column(Float)
    size_max_inclusive: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class Instrument(Base, Audited):
    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("manufacturer", "model", "serial_number", name="uq_instruments_identity"),
        Index("ix_instruments_region_item", "region_code", "item_code"),
        Index("ix_instruments_owner_due", "owner_id", "due_on"),
        Index("ix_instruments_due", "due_on"),
        Index("ix_instruments_serial_number", "serial_number"),  # 0010: search by 出厂编号 alone
        # 0007: one index for each list filter (tests/test_query_plans.py)
        Index("ix_instruments_serial", "serial_number"),
        Index("ix_instruments_item", "item_code"),
        Index("ix_instruments_status_valid", "status", "valid_until"),
        Index("ix_instruments_use", "use"),
        Index("ix_instruments_compulsory_due", "compulsory", "due_on"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    item_code: Mapped[str] = mapped_column(String(10))
    model: Mapped[str] = mapped_column(String(100))
    measuring_range: Mapped[str] = mapped_column(String(100), default="")
    accuracy_class: Mapped[str] = mapped_column(String(50), default="")
    serial_number: Mapped[str] = mapped_column(String(100))
    manufacturer: Mapped[str] = mapped_column(String(200))
    pattern_approval_no: Mapped[str] = mapped_column(String(100), default="")
    nominal_size: Mapped[float | None] = mapped_column(Float)
    location: Mapped[str] = mapped_column(String(300), default="")
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    use: Mapped[str] = mapped_column(String(30))
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(12), default="in_service")
    status_since: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date] = mapped_column(Date)
    first_used_on: Mapped[date | None] = mapped_column(Date)
    compulsory: Mapped[bool] = mapped_column(Boolean, default=True)
    # Denormalised from the effective verification records, maintained by the verification service:
    # what the indicators and due lists read, so that they scan one table.
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    last_conclusion: Mapped[str | None] = mapped_column(String(4))
    due_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class MeasurementStandard(Base, Audited):
    __tablename__ = "measurement_standards"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), index=True)  # ix_measurement_standards_kind (0007)
    holder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    quantity: Mapped[str] = mapped_column(String(100))
    measuring_range: Mapped[str] = mapped_column(String(200), default="")
    uncertainty: Mapped[str] = mapped_column(String(200), default="")
    certificate_no: Mapped[str] = mapped_column(String(100), unique=True)
    certificate_valid_from: Mapped[date] = mapped_column(Date)
    certificate_valid_until: Mapped[date] = mapped_column(Date, index=True)  # 0007
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StandardItem(Base, Audited):
    """A catalogue item that a measurement standard can verify."""

    __tablename__ = "standard_items"
    standard_id: Mapped[int] = mapped_column(ForeignKey("measurement_standards.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(10), primary_key=True)


class Authorisation(Base, Audited):
    """A verification institution's authorisation (授权) for a catalogue item in a region's subtree."""

    __tablename__ = "authorisations"
    __table_args__ = (Index("ix_authorisations_lookup", "institution_id", "item_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    item_code: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class VerificationRecord(Base, Audited):
    """Never edited in place: a correction is a new record whose ``supersedes_id`` names the old one."""

    __tablename__ = "verification_records"
    __table_args__ = (
        Index("ix_verification_records_instrument", "instrument_id", "verified_on"),
        UniqueConstraint("supersedes_id", name="uq_verification_records_supersedes_id"),
        UniqueConstraint("institution_id", "document_no", name="uq_verification_records_document"),
        Index("ix_verification_records_document_no", "document_no"),  # 0010: search by number alone
        Index("ix_verification_records_verified", "verified_on", "id"),  # 0024: the records list's order
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("measurement_standards.id"), index=True)
    verified_on: Mapped[date] = mapped_column(Date)
    conclusion: Mapped[str] = mapped_column(String(4))
    document_no: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date | None] = mapped_column(Date)
    catalogue_version: Mapped[str] = mapped_column(String(40))
    rule_form: Mapped[str | None] = mapped_column(String(20))
    regulation: Mapped[str] = mapped_column(String(100), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("verification_records.id"))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    # The verified_on of the next effective record of the same instrument: a record is the effective
    # one on date D iff verified_on <= D < effective_until (NULL = open). Makes as-of indicators one scan.
    effective_until: Mapped[date | None] = mapped_column(Date)
    remarks: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IndicatorTarget(Base, Audited):
    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("region_code", "year", "indicator", name="uq_indicator_targets_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    year: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(40))
    target: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300), default="")


class IndicatorSnapshot(Base):
    """Indicators as computed on a date, kept for trends at province scale (append-only)."""

    __tablename__ = "indicator_snapshots"
    __table_args__ = (
        UniqueConstraint("as_of", "region_code", "item_code", "indicator", name="uq_indicator_snapshots_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6))
    item_code: Mapped[str] = mapped_column(String(10))  # "" = all items
    indicator: Mapped[str] = mapped_column(String(40))
    numerator: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int] = mapped_column(BigInteger)


class User(Base, Audited):
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    jurisdiction: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Webhook(Base, Audited):
    """Where an owner (or a supervisor's office) wants its due reminders delivered."""

    __tablename__ = "webhooks"
    __audit_exclude__ = frozenset({"secret"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxMessage(Base):
    """Transactional outbox: written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    topic: Mapped[str] = mapped_column(String(50))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_object_id", "object_id"),  # 0007
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100), index=True)  # 0007
    request_id: Mapped[str] = mapped_column(String(64), default="", index=True)  # 0007
    action: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # X-Request-ID as the client sent it (migration 0007): a label, never the request id itself.
    client_request_id: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Certificate(Base, Audited):
    """A digital calibration certificate (数字计量证书): the signed DCC exactly as issued, never edited.

    Withdrawal and supersession change only ``status`` and the fields that say why; the signed bytes and
    their digest stay, so that the copy a customer holds can always be matched against the register.
    """

    __tablename__ = "certificates"
    __audit_exclude__ = frozenset({"document"})
    __table_args__ = (
        UniqueConstraint("supersedes_id", name="uq_certificates_supersedes_id"),
        Index("ix_certificates_record", "record_id"),
        Index("ix_certificates_instrument", "instrument_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # issued here | imported from elsewhere
    status: Mapped[str] = mapped_column(String(12))  # valid | withdrawn | superseded
    record_id: Mapped[int | None] = mapped_column(ForeignKey("verification_records.id"))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    issuer_name: Mapped[str] = mapped_column(String(200))
    issuer_credit_code: Mapped[str] = mapped_column(String(18), default="")
    item_summary: Mapped[str] = mapped_column(String(300), default="")
    schema_version: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signing_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str] = mapped_column(Text, default="")


class SigningKeyRow(Base, Audited):
    """A signing key with its X.509 certificate: the platform root CA (``kind`` "root", no institution) or
    an institution's document-signing key. The private key is stored only as encrypted PKCS#8 PEM."""

    __tablename__ = "signing_keys"
    __table_args__ = (Index("ix_signing_keys_owner", "kind", "institution_id", "active"),)
    __audit_exclude__ = frozenset({"private_key_pem", "chain_pem"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    algorithm: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(500))
    serial_number: Mapped[str] = mapped_column(String(64))
    certificate_pem: Mapped[str] = mapped_column(Text)
    chain_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StandardCalibration(Base, Audited):
    """One calibration (校准/检定) of a measurement standard: the link of the traceability graph.

    The standard is calibrated either against a higher standard (``reference_standard_id``) or, at the
    top of a chain, against an external anchor: a national primary standard (计量基准) or a foreign
    NMI's published CMC, named by ``anchor_*``. Never edited: a new calibration is a new row.
    """

    __tablename__ = "standard_calibrations"
    __table_args__ = (
        Index("ix_standard_calibrations_standard", "standard_id", "calibrated_on"),
        Index("ix_standard_calibrations_reference", "reference_standard_id", "calibrated_on"),
        UniqueConstraint("standard_id", "certificate_no", name="uq_standard_calibrations_certificate"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("measurement_standards.id"))
    reference_standard_id: Mapped[int | None] = mapped_column(ForeignKey("measurement_standards.id"))
    anchor_name: Mapped[str] = mapped_column(String(200), default="")
    anchor_nmi: Mapped[str] = mapped_column(String(100), default="")
    anchor_cmc_ref: Mapped[str] = mapped_column(String(200), default="")
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    certificate_no: Mapped[str] = mapped_column(String(100))
    calibrated_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # The expanded uncertainty stated on the certificate, its coverage factor and unit ("%", "ppm" and
    # "1" are relative; anything else a pint unit such as "g" or "kPa").
    expanded_uncertainty: Mapped[float] = mapped_column(Float)
    coverage_factor: Mapped[float] = mapped_column(Float, default=2.0)
    unit: Mapped[str] = mapped_column(String(20), default="%")
    # The tolerance (maximum permissible error, ±) the result was judged against, in the same unit.
    tolerance: Mapped[float | None] = mapped_column(Float)
    in_tolerance: Mapped[bool] = mapped_column(Boolean, default=True)
    remarks: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- transparency log (RFC 9162 Merkle tree; docs/transparency.md) ----------------------------------


class LogLeaf(Base):
    """One sequenced leaf: its position, its RFC 9162 leaf hash and the canonical bytes it hashes.

    The leaf hashes are also the tree's level 0 (``log_nodes`` holds levels ≥ 1). Lookup by hash goes
    through an index on ``(hash_bucket, leaf_hash)`` with ``hash_bucket = leaf_index >> 16``: an append's
    index entries then land in the newest bucket's few pages, not at random across an index of the whole
    log (which made every batch rewrite most of it); a lookup probes each bucket.
    """

    __tablename__ = "log_leaves"
    __table_args__ = (Index("ix_log_leaves_hash_bucket_leaf_hash", "hash_bucket", "leaf_hash"),)
    leaf_index: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    hash_bucket: Mapped[int] = mapped_column(Integer)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LogNode(Base):
    """The hash of one complete subtree of two or more leaves, keyed ``level << 48 | index`` (level ≥ 1;
    level 0, the leaf hashes, is ``log_leaves.leaf_hash`` under the same key, the leaf index).

    Only complete subtrees are stored: they never change once their last leaf is in, so an append writes
    O(log n) rows and any proof or past root is a fold of O(log n) of them (trust/merkle.py).
    """

    __tablename__ = "log_nodes"
    node_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogQueueEntry(Base):
    """A leaf waiting to be sequenced, written in the same transaction as the change it records."""

    __tablename__ = "log_queue"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LogState(Base):
    """The one row that says how many leaves are sequenced; its row lock serialises sequencers."""

    __tablename__ = "log_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class LogCheckpointRow(Base):
    """A published signed tree head (the C2SP signed note as text)."""

    __tablename__ = "log_checkpoints"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LogKey(Base):
    """The log's Ed25519 signing key: generated once, stored only as passphrase-encrypted PKCS#8."""

    __tablename__ = "log_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_pkcs8: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- market supervision (issue 12; migration 0013; docs/market.md) -----------------------------------


class MarketInspector(Base, Audited):
    """A law-enforcement inspector of the pool that random inspections draw from (执法检查人员名录)."""

    __tablename__ = "market_inspectors"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketInspectorRelation(Base, Audited):
    """A relation an inspector declared with an organisation (亲属、曾任职…): a conflict of interest."""

    __tablename__ = "market_inspector_relations"
    __table_args__ = (
        UniqueConstraint("inspector_id", "organisation_id", name="uq_market_inspector_relations_pair"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("market_inspectors.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    declared_on: Mapped[date] = mapped_column(Date)


class MarketPlan(Base, Audited):
    """A random-inspection plan: its population rule, the frozen population, the seed commitment, the draw.

    ``status``: draft → committed (population frozen, commitment published) → drawn (seed revealed).
    The seed and the population never change after commitment; the service refuses it."""

    __tablename__ = "market_plans"
    __audit_exclude__ = frozenset({"population", "seed"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    org_kinds: Mapped[list[str]] = mapped_column(JSON)
    item_code: Mapped[str | None] = mapped_column(String(10))
    ratio: Mapped[float | None] = mapped_column(Float)
    quotas: Mapped[dict[str, int] | None] = mapped_column(JSON)
    strata_by: Mapped[str] = mapped_column(String(20))
    team_size: Mapped[int] = mapped_column(Integer, default=2)
    lookback_days: Mapped[int] = mapped_column(Integer, default=365)
    status: Mapped[str] = mapped_column(String(12))
    seed_commitment: Mapped[str | None] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(64))
    population: Mapped[list[Any] | None] = mapped_column(JSON)
    population_sha256: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketTarget(Base, Audited):
    """One drawn organisation of a plan, in published order, with its inspectors."""

    __tablename__ = "market_targets"
    __table_args__ = (UniqueConstraint("plan_id", "organisation_id", name="uq_market_targets_plan_org"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("market_plans.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    stratum: Mapped[str] = mapped_column(String(100))
    weight: Mapped[float] = mapped_column(Float)
    inspector_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")


class MarketResult(Base, Audited):
    """The result of inspecting one target: findings, instruments checked with their measured errors,
    the conclusion. Never edited: a correction is a new row naming ``supersedes_id``."""

    __tablename__ = "market_results"
    __table_args__ = (UniqueConstraint("supersedes_id", name="uq_market_results_supersedes_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("market_targets.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector_ids: Mapped[list[int]] = mapped_column(JSON)
    findings: Mapped[str] = mapped_column(Text, default="")
    instruments: Mapped[list[Any]] = mapped_column(JSON)
    conclusion: Mapped[str] = mapped_column(String(12))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("market_results.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketResultPhoto(Base, Audited):
    """A photo taken in the field as evidence of a result (JPEG or PNG, its type read from the bytes),
    with its SHA-256; the audit trail keeps the hash, not the bytes."""

    __tablename__ = "market_result_photos"
    __table_args__ = (
        UniqueConstraint("result_id", "position", name="uq_market_result_photos_result_position"),
    )
    __audit_exclude__ = frozenset({"content"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("market_results.id"))
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NetContentInspection(Base, Audited):
    """A net-content inspection of one lot (JJF 1070 / EU) with the full report as computed."""

    __tablename__ = "net_content_inspections"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("market_targets.id"))
    product: Mapped[str] = mapped_column(String(200))
    ruleset: Mapped[str] = mapped_column(String(30))
    nominal: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    lot_size: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    inspected_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CreditEventRow(Base, Audited):
    """One metrology-credit event of an organisation (legal/credit.py), with where it came from."""

    __tablename__ = "credit_events"
    __table_args__ = (Index("ix_credit_events_org_day", "organisation_id", "occurred_on"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[date] = mapped_column(Date)
    source_type: Mapped[str] = mapped_column(String(30), default="")
    source_id: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Complaint(Base, Audited):
    """A complaint (举报). The reporter's identity is stored only encrypted (AES-GCM, key from settings) and
    read only through the service, which audits every read; the receipt code is kept as its SHA-256."""

    __tablename__ = "complaints"
    __audit_exclude__ = frozenset({"reporter_ciphertext", "receipt_sha256"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    receipt_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    reporter_ciphertext: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(14))
    resolution: Mapped[str] = mapped_column(Text, default="")
    reward: Mapped[str] = mapped_column(String(200), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_cases.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnforcementCase(Base, Audited):
    """A case (案件): filed → investigating → decided → closed, with deadlines and linked evidence."""

    __tablename__ = "enforcement_cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(14))
    filed_on: Mapped[date] = mapped_column(Date)
    investigate_by: Mapped[date] = mapped_column(Date)
    decide_by: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    close_by: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    violation: Mapped[bool | None] = mapped_column(Boolean)
    decision: Mapped[str] = mapped_column(Text, default="")
    penalty: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- supervision (issue 10, migration 0010) ---------------------------------------------------------


class FollowUp(Base, Audited):
    """A 督办: a supervisor marked an overdue instrument for follow-up and (optionally) reminded its owner.

    Whether it was verified since is read from the instrument (``last_verified_on >= opened_on``), never
    stored, so it cannot disagree with the records. ``region_code`` copies the instrument's region so that
    the jurisdiction filter is one indexed prefix, as everywhere else.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("instrument_id", "opened_on", name="uq_follow_ups_instrument_day"),
        Index("ix_follow_ups_region_opened", "region_code", "opened_on"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date | None] = mapped_column(Date)  # the due date when it was opened
    note: Mapped[str] = mapped_column(Text, default="")
    reminders_queued: Mapped[int] = mapped_column(Integer, default=0)
    # closed by hand (migration 0022): the owner showed the instrument retired, moved or verified elsewhere;
    # reopening clears these and appends the reason to ``note``; the audit trail keeps every step
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    close_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

# --- verification with measurement data and three signatories (migration 0009) -----------------------


class Signatory(Base, Audited):
    """A person of an institution who signs verifications: 检定员 / 核验员 / 批准人, with the qualification
    number (检定员证 or 注册计量师 registration) printed on the certificate."""

    __tablename__ = "signatories"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    qualification_no: Mapped[str] = mapped_column(String(60))
    may_verify: Mapped[bool] = mapped_column(Boolean, default=True)
    may_check: Mapped[bool] = mapped_column(Boolean, default=False)
    may_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MeasuredVerification(Base, Audited):
    """A verification as measured (检定原始记录), signed off in turn: recorded → checked → approved.

    Only an approved one becomes a ``VerificationRecord`` (``record_id``), and only a record can carry a
    certificate. Decimal values are kept as the digits recorded (text), as the certificate writes them.
    """

    __tablename__ = "measured_verifications"
    __table_args__ = (
        UniqueConstraint("institution_id", "document_no", name="uq_measured_verifications_document"),
        Index("ix_measured_verifications_queue", "institution_id", "state"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("measurement_standards.id"))
    verified_on: Mapped[date] = mapped_column(Date)
    document_no: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(12))  # initial | subsequent | in_service
    accuracy_class: Mapped[str] = mapped_column(String(50), default="")
    scale_interval: Mapped[str] = mapped_column(String(40), default="")
    mpe_rule: Mapped[str] = mapped_column(String(30))
    decision_rule: Mapped[str] = mapped_column(String(10))
    conclusion: Mapped[str] = mapped_column(String(4))  # computed from the data: pass | fail
    warnings: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10))  # recorded | checked | approved | returned
    remarks: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    verifier_id: Mapped[int] = mapped_column(ForeignKey("signatories.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("signatories.id"))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("signatories.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("verification_records.id"), unique=True)


class VerificationTestPoint(Base, Audited):
    """One test point (检定点) of a measured verification, or one inspection item judged by the verifier."""

    __tablename__ = "verification_test_points"
    __table_args__ = (UniqueConstraint("verification_id", "seq", name="uq_verification_test_points_seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("measured_verifications.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # measured | inspection
    label: Mapped[str] = mapped_column(String(200), default="")
    zone: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    nominal: Mapped[str] = mapped_column(String(40), default="")
    indications: Mapped[str] = mapped_column(String(400), default="")  # space-separated
    error: Mapped[str] = mapped_column(String(40), default="")
    mpe_lower: Mapped[str] = mapped_column(String(40), default="")
    mpe_upper: Mapped[str] = mapped_column(String(40), default="")
    mpe_basis: Mapped[str] = mapped_column(String(200), default="")
    mpe_evidence: Mapped[str] = mapped_column(String(12), default="")  # confirmed | provisional | given
    uncertainty: Mapped[str] = mapped_column(String(40), default="")
    coverage_factor: Mapped[str] = mapped_column(String(10), default="")
    passed: Mapped[bool] = mapped_column(Boolean)


class ConsoleSession(Base):
    """A signed-in browser: the cookie carries a random token, only its SHA-256 is stored (docs/console.md).

    Not audited row by row (one per sign-in, touched while in use); signing in and out are in the audit
    trail through the services that call them.
    """

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class SignInThrottle(Base):
    """Recent failed sign-ins per account name or client address (``account:<name>``, ``address:<ip>``)."""

    __tablename__ = "sign_in_throttles"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- places of use (一站一码) and verification bookings (预约); migration 0011 ---------------------------


class Place(Base, Audited):
    """A place where instruments are used (a fuel station, a market, a hospital), with its public code.

    The code is printed as a QR code on site (一站一码) and opens ``/public/places/<code>``.
    """

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_region_name", "region_code", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlaceInstrument(Base, Audited):
    """Which place an instrument is used at (at most one); beside ``instruments`` so that it stays unchanged."""

    __tablename__ = "place_instruments"
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id"), primary_key=True, autoincrement=False
    )
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)


class Booking(Base, Audited):
    """An owner's request that an authorised institution verify an instrument (预约检定)."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_institution_status", "institution_id", "status"),
        Index("ix_bookings_owner", "owner_id", "created_at"),
        Index("ix_bookings_instrument", "instrument_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    preferred_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

# --- energy metering and carbon (issue 13; migration 0015; docs/energy.md) ----------------------------


class EnergyUnit(Base, Audited):
    """A key energy-using unit (重点用能单位): an organisation of the registry, its energies, the threshold."""

    __tablename__ = "energy_units"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    sector: Mapped[str] = mapped_column(String(100), default="")
    energy_types: Mapped[list[str]] = mapped_column(JSON)
    annual_tce: Mapped[float] = mapped_column(Float)
    threshold_tce: Mapped[float] = mapped_column(Float)
    rule_set: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnergyTopology(Base, Audited):
    """One uploaded version of a unit's metering tree; the newest is the unit's current tree."""

    __tablename__ = "energy_topologies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("energy_units.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    nodes: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnergyNode(Base, Audited):
    """A node of the tree on one of GB 17167's three levels, with its demand and supply points per energy."""

    __tablename__ = "energy_nodes"
    __table_args__ = (UniqueConstraint("topology_id", "key", name="uq_energy_nodes_topology_key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topology_id: Mapped[int] = mapped_column(ForeignKey("energy_topologies.id"), index=True)
    key: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12))
    parent_key: Mapped[str | None] = mapped_column(String(50))
    demand: Mapped[dict[str, float]] = mapped_column(JSON)
    supply_points: Mapped[dict[str, int]] = mapped_column(JSON)


class EnergyPoint(Base, Audited):
    """A metering point at a node: one registry instrument measuring one energy in one unit."""

    __tablename__ = "energy_points"
    __table_args__ = (
        UniqueConstraint("topology_id", "key", name="uq_energy_points_topology_key"),
        UniqueConstraint("topology_id", "instrument_id", name="uq_energy_points_topology_instrument"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topology_id: Mapped[int] = mapped_column(ForeignKey("energy_topologies.id"), index=True)
    key: Mapped[str] = mapped_column(String(50))
    node_key: Mapped[str] = mapped_column(String(50))
    energy_type: Mapped[str] = mapped_column(String(20))
    meter_kind: Mapped[str] = mapped_column(String(30))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    unit: Mapped[str] = mapped_column(String(20))


class EnergyReview(Base, Audited):
    """A GB 17167 review (or the unit's self-check, 自查) of one topology on one date, as computed."""

    __tablename__ = "energy_reviews"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("energy_units.id"), index=True)
    topology_id: Mapped[int] = mapped_column(ForeignKey("energy_topologies.id"))
    kind: Mapped[str] = mapped_column(String(12))  # review | self_check
    review_date: Mapped[date] = mapped_column(Date)
    rule_set: Mapped[str] = mapped_column(String(40))
    compliant: Mapped[bool] = mapped_column(Boolean)
    rates: Mapped[list[Any]] = mapped_column(JSON)
    meters: Mapped[list[Any]] = mapped_column(JSON)
    provisional_rules: Mapped[int] = mapped_column(Integer)
    run_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnergyShortfall(Base, Audited):
    """One shortfall of a review with the clause it breaks."""

    __tablename__ = "energy_shortfalls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("energy_reviews.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    clause: Mapped[str] = mapped_column(String(60))
    message_zh: Mapped[str] = mapped_column(String(500))
    message_en: Mapped[str] = mapped_column(String(500))
    node_key: Mapped[str] = mapped_column(String(50), default="")
    energy_type: Mapped[str] = mapped_column(String(20), default="")
    meter: Mapped[str] = mapped_column(String(50), default="")


class EnergyPeriod(Base, Audited):
    """A reported period of a unit (one upload of readings) with what was computed from it."""

    __tablename__ = "energy_periods"
    __table_args__ = (Index("ix_energy_periods_unit_start", "unit_id", "period_start"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("energy_units.id"))
    topology_id: Mapped[int] = mapped_column(ForeignKey("energy_topologies.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    quality: Mapped[list[Any]] = mapped_column(JSON)  # per point: days reported, gaps, stuck runs
    coal: Mapped[dict[str, Any]] = mapped_column(JSON)  # standard coal, both electricity methods
    carbon: Mapped[dict[str, Any]] = mapped_column(JSON)  # emissions, GUM and Monte Carlo, the budget
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # upload (a file of the unit) | live (folded from remote-supervision readings, services/energy/live.py)
    source: Mapped[str] = mapped_column(String(10), default="upload", server_default="upload")
    hourly: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a live day's hours, per point and node


class EnergyReading(Base):
    """A day's consumption at a metering point, in the point's unit (append-only, high volume: not audited
    row by row; the period's row and its sha256 are)."""

    __tablename__ = "energy_readings"
    __table_args__ = (UniqueConstraint("period_id", "point_id", "day", name="uq_energy_readings_point_day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("energy_periods.id"))
    point_id: Mapped[int] = mapped_column(ForeignKey("energy_points.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)


class EnergyConsumption(Base, Audited):
    """Consumption of a node and energy over a period (the sum of its points), with its quality flags."""

    __tablename__ = "energy_consumption"
    __table_args__ = (Index("ix_energy_consumption_period", "period_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("energy_periods.id"))
    node_key: Mapped[str] = mapped_column(String(50))
    energy_type: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    flags: Mapped[list[str]] = mapped_column(JSON)


class EnergyBalanceCheck(Base, Audited):
    """A parent node against its children for one energy and period; ``status`` imbalance is a warning."""

    __tablename__ = "energy_balance_checks"
    __table_args__ = (Index("ix_energy_balance_checks_period", "period_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("energy_periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("energy_units.id"), index=True)
    node_key: Mapped[str] = mapped_column(String(50))
    energy_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # balanced | imbalance | not_checked
    parent: Mapped[float | None] = mapped_column(Float)
    children: Mapped[float | None] = mapped_column(Float)
    difference: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


# --- remote supervision (issue 11; migration 0016; docs/telemetry.md) ---------------------------------


class TelemetryDevice(Base, Audited):
    """A registry instrument's remote identity: the id it publishes as, its type and its credential.

    ``secret_hash`` is in Mosquitto's PBKDF2-SHA512 format, so the same hash authenticates the HTTP
    endpoint and goes into the broker's password file; ``detector_state`` is the detectors' memory."""

    __tablename__ = "telemetry_devices"
    __audit_exclude__ = frozenset({"secret_hash", "detector_state", "last_seen_at", "readings_count"})
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), unique=True)
    instrument_type: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("regions.code"), index=True)
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("telemetry_devices.id"))
    secret_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    detector_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    readings_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TelemetryReading(Base):
    """One reading, stored once: (device, message id) is unique, so a redelivery is a no-op. High-volume
    and append-only, so not audited row by row."""

    __tablename__ = "telemetry_readings"
    __table_args__ = (
        UniqueConstraint("device_pk", "message_id", name="uq_telemetry_readings_device_message"),
        Index("ix_telemetry_readings_device_time", "device_pk", "device_time"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("telemetry_devices.id"))
    message_id: Mapped[str] = mapped_column(String(64))
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    schema: Mapped[str] = mapped_column(String(60))
    values: Mapped[dict[str, float]] = mapped_column(JSON)
    events: Mapped[list[str]] = mapped_column(JSON)


class TelemetryQuarantine(Base):
    """A payload refused at ingestion, with the field and the reason (bad input is kept, not dropped)."""

    __tablename__ = "telemetry_quarantine"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str] = mapped_column(String(10))
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text)


class TelemetryWarning(Base, Audited):
    """A warning (预警): one condition of one device (or one energy imbalance), raised once and cleared
    when it ends (``status``), and worked to closure (``state``: new → assigned → inspected → disposed →
    closed, 0018; ``telemetry.workflow``)."""

    __tablename__ = "telemetry_warnings"
    __table_args__ = (
        Index("ix_telemetry_warnings_device_status", "device_pk", "status"),
        Index("ix_telemetry_warnings_region_state", "region_code", "state"),
        Index("ix_telemetry_warnings_assignee", "assignee_id", "state"),
        Index("ix_telemetry_warnings_instrument", "instrument_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_pk: Mapped[int | None] = mapped_column(ForeignKey("telemetry_devices.id"))
    source: Mapped[str] = mapped_column(String(10), default="telemetry", server_default="telemetry")
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"))
    region_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("regions.code"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    energy_check_id: Mapped[int | None] = mapped_column(ForeignKey("energy_balance_checks.id"))
    state: Mapped[str] = mapped_column(String(12), default="new", server_default="new")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inspected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    findings: Mapped[str] = mapped_column(Text, default="", server_default="")
    measured_error: Mapped[float | None] = mapped_column(Float)
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    disposal: Mapped[str | None] = mapped_column(String(12))
    disposal_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    disposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_cases.id"))
    detector: Mapped[str] = mapped_column(String(20))
    condition: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))  # active | cleared
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_message_id: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_message_id: Mapped[str | None] = mapped_column(String(64))
    clear_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WarningAction(Base):
    """One step of a warning's workflow, with who took it and what they recorded (append-only; the
    warning row itself is audited)."""

    __tablename__ = "warning_actions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("telemetry_warnings.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


# 0017: derived counts of the compulsory instruments, kept by triggers on ``instruments`` (never written
# by the services), read by services.indicators for today's coverage and overdue counts.
class InstrumentTotal(Base):
    __tablename__ = "instrument_totals"
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class InstrumentTally(Base):
    __tablename__ = "instrument_tallies"
    __table_args__ = (
        Index("ix_instrument_tallies_expiry", "status", "valid_until", "region_code", "item_code", "n"),
    )
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    valid_until: Mapped[date] = mapped_column(Date, primary_key=True)  # 0001-01-01: never verified
    n: Mapped[int] = mapped_column(BigInteger)


class InstrumentTallyState(Base):
    __tablename__ = "instrument_tally_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    latest_filed_on: Mapped[date | None] = mapped_column(Date)
    folded_before: Mapped[date | None] = mapped_column(Date)
