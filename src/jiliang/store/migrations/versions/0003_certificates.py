"""certificates: the register of digital calibration certificates (DCC) issued or imported

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("record_id", BigId, nullable=True),
        sa.Column("instrument_id", BigId, nullable=True),
        sa.Column("institution_id", BigId, nullable=True),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("issuer_credit_code", sa.String(length=18), nullable=False),
        sa.Column("item_summary", sa.String(length=300), nullable=False),
        sa.Column("schema_version", sa.String(length=10), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signing_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("supersedes_id", BigId, nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["verification_records.id"],
            name=op.f("fk_certificates_record_id_verification_records"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_certificates_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organisations.id"],
            name=op.f("fk_certificates_institution_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["certificates.id"], name=op.f("fk_certificates_supersedes_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
        sa.UniqueConstraint("sha256", name=op.f("uq_certificates_sha256")),
        sa.UniqueConstraint("supersedes_id", name="uq_certificates_supersedes_id"),
    )
    op.create_index("ix_certificates_record", "certificates", ["record_id"])
    op.create_index("ix_certificates_instrument", "certificates", ["instrument_id"])
    op.create_index(op.f("ix_certificates_institution_id"), "certificates", ["institution_id"])


def downgrade() -> None:
    op.drop_table("certificates")
