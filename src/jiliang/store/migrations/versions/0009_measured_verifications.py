"""verification with measurement data: test points, three signatories (检定员 / 核验员 / 批准人)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "signatories",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("qualification_no", sa.String(length=60), nullable=False),
        sa.Column("may_verify", sa.Boolean(), nullable=False),
        sa.Column("may_check", sa.Boolean(), nullable=False),
        sa.Column("may_approve", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_signatories_user_id_users")),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organisations.id"], name=op.f("fk_signatories_institution_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatories")),
        sa.UniqueConstraint("user_id", name=op.f("uq_signatories_user_id")),
    )
    op.create_index(op.f("ix_signatories_institution_id"), "signatories", ["institution_id"], unique=False)
    op.create_table(
        "measured_verifications",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("instrument_id", ID, nullable=False),
        sa.Column("standard_id", ID, nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("accuracy_class", sa.String(length=50), nullable=False),
        sa.Column("scale_interval", sa.String(length=40), nullable=False),
        sa.Column("mpe_rule", sa.String(length=30), nullable=False),
        sa.Column("decision_rule", sa.String(length=10), nullable=False),
        sa.Column("conclusion", sa.String(length=4), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("verifier_id", ID, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checker_id", ID, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approver_id", ID, nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organisations.id"],
            name=op.f("fk_measured_verifications_institution_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_measured_verifications_instrument_id_instruments"),
        ),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["measurement_standards.id"],
            name=op.f("fk_measured_verifications_standard_id_measurement_standards"),
        ),
        sa.ForeignKeyConstraint(
            ["verifier_id"],
            ["signatories.id"],
            name=op.f("fk_measured_verifications_verifier_id_signatories"),
        ),
        sa.ForeignKeyConstraint(
            ["checker_id"], ["signatories.id"], name=op.f("fk_measured_verifications_checker_id_signatories")
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["signatories.id"],
            name=op.f("fk_measured_verifications_approver_id_signatories"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["verification_records.id"],
            name=op.f("fk_measured_verifications_record_id_verification_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measured_verifications")),
        sa.UniqueConstraint("institution_id", "document_no", name="uq_measured_verifications_document"),
        sa.UniqueConstraint("record_id", name=op.f("uq_measured_verifications_record_id")),
    )
    op.create_index(
        op.f("ix_measured_verifications_instrument_id"),
        "measured_verifications",
        ["instrument_id"],
        unique=False,
    )
    op.create_index(
        "ix_measured_verifications_queue", "measured_verifications", ["institution_id", "state"], unique=False
    )
    op.create_table(
        "verification_test_points",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("verification_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("zone", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("nominal", sa.String(length=40), nullable=False),
        sa.Column("indications", sa.String(length=400), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=False),
        sa.Column("mpe_lower", sa.String(length=40), nullable=False),
        sa.Column("mpe_upper", sa.String(length=40), nullable=False),
        sa.Column("mpe_basis", sa.String(length=200), nullable=False),
        sa.Column("mpe_evidence", sa.String(length=12), nullable=False),
        sa.Column("uncertainty", sa.String(length=40), nullable=False),
        sa.Column("coverage_factor", sa.String(length=10), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["measured_verifications.id"],
            name=op.f("fk_verification_test_points_verification_id_measured_verifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_test_points")),
        sa.UniqueConstraint("verification_id", "seq", name="uq_verification_test_points_seq"),
    )


def downgrade() -> None:
    op.drop_table("verification_test_points")
    op.drop_index("ix_measured_verifications_queue", table_name="measured_verifications")
    op.drop_index(op.f("ix_measured_verifications_instrument_id"), table_name="measured_verifications")
    op.drop_table("measured_verifications")
    op.drop_index(op.f("ix_signatories_institution_id"), table_name="signatories")
    op.drop_table("signatories")
