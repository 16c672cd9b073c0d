"""hardening (issue 16): the client's request id as its own audit column, and an index for every filter

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00

``audit_log.client_request_id`` keeps the X-Request-ID a client sent, apart from the server-chosen
``request_id``. The indexes serve the list filters of the API and the console (tests/test_query_plans.py
checks each plan on both databases): looking an instrument up by serial number used to scan the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_instruments_serial", "instruments", ["serial_number"]),
    ("ix_instruments_item", "instruments", ["item_code"]),
    ("ix_instruments_status_valid", "instruments", ["status", "valid_until"]),
    ("ix_instruments_use", "instruments", ["use"]),
    ("ix_instruments_compulsory_due", "instruments", ["compulsory", "due_on"]),
    ("ix_organisations_kind", "organisations", ["kind"]),
    ("ix_measurement_standards_kind", "measurement_standards", ["kind"]),
    (
        "ix_measurement_standards_certificate_valid_until",
        "measurement_standards",
        ["certificate_valid_until"],
    ),
    ("ix_audit_log_object_id", "audit_log", ["object_id"]),
    ("ix_audit_log_actor_name", "audit_log", ["actor_name"]),
    ("ix_audit_log_request_id", "audit_log", ["request_id"]),
]


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("client_request_id", sa.String(length=64), nullable=False, server_default="")
        )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("client_request_id")
