"""a 督办 closed by hand with a reason, and reopened; a catalogue version's compulsory flags applied (issue 10)

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=False, server_default=""))
    # the day the version in force had the instruments' compulsory flag recomputed, and what changed;
    # NULL: not yet (the first daily run after this migration applies the version in force)
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.add_column(sa.Column("compulsory_applied_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("compulsory_changes", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.drop_column("compulsory_changes")
        batch.drop_column("compulsory_applied_on")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("close_reason")
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
