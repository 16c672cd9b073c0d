"""traceability: calibrations of measurement standards (the links of the traceability graph)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standard_calibrations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("standard_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "reference_standard_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("anchor_name", sa.String(length=200), nullable=False),
        sa.Column("anchor_nmi", sa.String(length=100), nullable=False),
        sa.Column("anchor_cmc_ref", sa.String(length=200), nullable=False),
        sa.Column("institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("certificate_no", sa.String(length=100), nullable=False),
        sa.Column("calibrated_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("expanded_uncertainty", sa.Float(), nullable=False),
        sa.Column("coverage_factor", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("tolerance", sa.Float(), nullable=True),
        sa.Column("in_tolerance", sa.Boolean(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["measurement_standards.id"],
            name=op.f("fk_standard_calibrations_standard_id_measurement_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["reference_standard_id"],
            ["measurement_standards.id"],
            name=op.f("fk_standard_calibrations_reference_standard_id_measurement_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organisations.id"],
            name=op.f("fk_standard_calibrations_institution_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_calibrations")),
        sa.UniqueConstraint("standard_id", "certificate_no", name="uq_standard_calibrations_certificate"),
    )
    with op.batch_alter_table("standard_calibrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_standard_calibrations_standard", ["standard_id", "calibrated_on"], unique=False
        )
        batch_op.create_index(
            "ix_standard_calibrations_reference", ["reference_standard_id", "calibrated_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("standard_calibrations", schema=None) as batch_op:
        batch_op.drop_index("ix_standard_calibrations_reference")
        batch_op.drop_index("ix_standard_calibrations_standard")
    op.drop_table("standard_calibrations")
