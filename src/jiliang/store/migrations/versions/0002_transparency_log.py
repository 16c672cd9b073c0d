"""transparency log: leaves (level 0 of the tree), complete-subtree hashes of levels >= 1, queue, state, checkpoints, signing key

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("leaf_index", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("hash_bucket", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_log_leaves")),
    )
    # (bucket, hash), not hash alone: appends then write into the newest bucket only (models.LogLeaf).
    op.create_index(
        op.f("ix_log_leaves_hash_bucket_leaf_hash"), "log_leaves", ["hash_bucket", "leaf_hash"], unique=False
    )
    op.create_table(
        "log_nodes",
        sa.Column("node_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_queue",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_queue")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "log_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("private_key_pkcs8", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_keys")),
    )


def downgrade() -> None:
    for table in ("log_keys", "log_checkpoints", "log_state", "log_queue", "log_nodes"):
        op.drop_table(table)
    op.drop_index(op.f("ix_log_leaves_hash_bucket_leaf_hash"), table_name="log_leaves")
    op.drop_table("log_leaves")
