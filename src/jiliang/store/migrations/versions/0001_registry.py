"""registry: regions, organisations, catalogue, instruments, standards, verifications, access, audit, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:22:06.602965
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "catalogue_versions",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_catalogue_versions")),
    )
    op.create_table(
        "indicator_snapshots",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("numerator", sa.BigInteger(), nullable=False),
        sa.Column("denominator", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_snapshots")),
        sa.UniqueConstraint(
            "as_of", "region_code", "item_code", "indicator", name="uq_indicator_snapshots_key"
        ),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.Column("level1_no", sa.Integer(), nullable=False),
        sa.Column("level1_zh", sa.String(length=100), nullable=False),
        sa.Column("level1_en", sa.String(length=200), nullable=False),
        sa.Column("level2_zh", sa.String(length=100), nullable=False),
        sa.Column("level2_en", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("evidence", sa.String(length=12), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["catalogue_versions.version"],
            name=op.f("fk_catalogue_items_version_catalogue_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_items")),
        sa.UniqueConstraint("version", "item_code", name="uq_catalogue_items_version_code"),
    )
    op.create_table(
        "indicator_targets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_indicator_targets_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_targets")),
        sa.UniqueConstraint("region_code", "year", "indicator", name="uq_indicator_targets_key"),
    )
    op.create_table(
        "organisations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_organisations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_organisations_credit_code")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_region_code"), ["region_code"], unique=False)

    op.create_table(
        "authorisations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organisations.id"],
            name=op.f("fk_authorisations_institution_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_authorisations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
    )
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.create_index("ix_authorisations_lookup", ["institution_id", "item_code"], unique=False)

    op.create_table(
        "catalogue_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=True),
        sa.Column("period_months", sa.Integer(), nullable=True),
        sa.Column("service_life_months", sa.Integer(), nullable=True),
        sa.Column("regulation", sa.String(length=100), nullable=False),
        sa.Column("size_parameter", sa.String(length=10), nullable=False),
        sa.Column("size_min_exclusive", sa.Float(), nullable=True),
        sa.Column("size_max_inclusive", sa.Float(), nullable=True),
        sa.Column("evidence", sa.String(length=12), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["catalogue_items.id"], name=op.f("fk_catalogue_rules_item_id_catalogue_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_rules")),
    )
    with op.batch_alter_table("catalogue_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_rules_item_id"), ["item_id"], unique=False)

    op.create_table(
        "instruments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("measuring_range", sa.String(length=100), nullable=False),
        sa.Column("accuracy_class", sa.String(length=50), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("pattern_approval_no", sa.String(length=100), nullable=False),
        sa.Column("nominal_size", sa.Float(), nullable=True),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("use", sa.String(length=30), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("first_used_on", sa.Date(), nullable=True),
        sa.Column("compulsory", sa.Boolean(), nullable=False),
        sa.Column("last_verified_on", sa.Date(), nullable=True),
        sa.Column("last_conclusion", sa.String(length=4), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["organisations.id"], name=op.f("fk_instruments_owner_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_instruments_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("manufacturer", "model", "serial_number", name="uq_instruments_identity"),
    )
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index("ix_instruments_due", ["due_on"], unique=False)
        batch_op.create_index("ix_instruments_owner_due", ["owner_id", "due_on"], unique=False)
        batch_op.create_index("ix_instruments_region_item", ["region_code", "item_code"], unique=False)

    op.create_table(
        "measurement_standards",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("holder_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("quantity", sa.String(length=100), nullable=False),
        sa.Column("measuring_range", sa.String(length=200), nullable=False),
        sa.Column("uncertainty", sa.String(length=200), nullable=False),
        sa.Column("certificate_no", sa.String(length=100), nullable=False),
        sa.Column("certificate_valid_from", sa.Date(), nullable=False),
        sa.Column("certificate_valid_until", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["organisations.id"], name=op.f("fk_measurement_standards_holder_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_measurement_standards_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_standards")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_measurement_standards_certificate_no")),
    )
    with op.batch_alter_table("measurement_standards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measurement_standards_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_measurement_standards_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "users",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction", sa.String(length=6), nullable=False),
        sa.Column("organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"], ["regions.code"], name=op.f("fk_users_jurisdiction_regions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_users_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "webhooks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_webhooks_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=50), nullable=False),
        sa.Column("webhook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_outbox_webhook_id_webhooks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["delivered_at", "next_attempt_at"], unique=False)

    op.create_table(
        "standard_items",
        sa.Column("standard_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["measurement_standards.id"],
            name=op.f("fk_standard_items_standard_id_measurement_standards"),
        ),
        sa.PrimaryKeyConstraint("standard_id", "item_code", name=op.f("pk_standard_items")),
    )
    op.create_table(
        "verification_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("instrument_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("standard_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("conclusion", sa.String(length=4), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("catalogue_version", sa.String(length=40), nullable=False),
        sa.Column("rule_form", sa.String(length=20), nullable=True),
        sa.Column("regulation", sa.String(length=100), nullable=False),
        sa.Column("supersedes_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organisations.id"],
            name=op.f("fk_verification_records_institution_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_verification_records_instrument_id_instruments"),
        ),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["measurement_standards.id"],
            name=op.f("fk_verification_records_standard_id_measurement_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["verification_records.id"],
            name=op.f("fk_verification_records_supersedes_id_verification_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_records")),
        sa.UniqueConstraint("institution_id", "document_no", name="uq_verification_records_document"),
        sa.UniqueConstraint("supersedes_id", name="uq_verification_records_supersedes_id"),
    )
    with op.batch_alter_table("verification_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_records_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            "ix_verification_records_instrument", ["instrument_id", "verified_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verification_records_standard_id"), ["standard_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_records_standard_id"))
        batch_op.drop_index("ix_verification_records_instrument")
        batch_op.drop_index(batch_op.f("ix_verification_records_institution_id"))

    op.drop_table("verification_records")
    op.drop_table("standard_items")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_organisation_id"))

    op.drop_table("webhooks")
    op.drop_table("users")
    with op.batch_alter_table("measurement_standards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurement_standards_region_code"))
        batch_op.drop_index(batch_op.f("ix_measurement_standards_holder_id"))

    op.drop_table("measurement_standards")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index("ix_instruments_region_item")
        batch_op.drop_index("ix_instruments_owner_due")
        batch_op.drop_index("ix_instruments_due")

    op.drop_table("instruments")
    with op.batch_alter_table("catalogue_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_rules_item_id"))

    op.drop_table("catalogue_rules")
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorisations_lookup")

    op.drop_table("authorisations")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_region_code"))

    op.drop_table("organisations")
    op.drop_table("indicator_targets")
    op.drop_table("catalogue_items")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))

    op.drop_table("regions")
    op.drop_table("indicator_snapshots")
    op.drop_table("catalogue_versions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_object")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
