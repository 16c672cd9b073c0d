"""supervision: follow-ups (督办) and the indexes of the supervisor's searches

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:00:00

The searches look up an instrument by its serial number (出厂编号) alone, and a verification record by
its number alone: the existing unique constraints lead with manufacturer and institution, so neither
serves those lookups. Certificates (``number``), standards (``certificate_no``) and organisations
(``credit_code``) are already unique, hence indexed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("instrument_id", BigId, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reminders_queued", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_follow_ups_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["organisations.id"], name=op.f("fk_follow_ups_owner_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_follow_ups_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("instrument_id", "opened_on", name="uq_follow_ups_instrument_day"),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_follow_ups_region_opened", ["region_code", "opened_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_owner_id"), ["owner_id"], unique=False)
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index("ix_instruments_serial_number", ["serial_number"], unique=False)
    with op.batch_alter_table("verification_records", schema=None) as batch_op:
        batch_op.create_index("ix_verification_records_document_no", ["document_no"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verification_records", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_records_document_no")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index("ix_instruments_serial_number")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_owner_id"))
        batch_op.drop_index("ix_follow_ups_region_opened")
    op.drop_table("follow_ups")
