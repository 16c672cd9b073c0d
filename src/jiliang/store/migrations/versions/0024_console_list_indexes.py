"""console lists: indexes that lead with the lists' sort key, and a trigram index of instrument names
(issue 10, Fast)

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-07 23:40:00

The records list is sorted by verification date, newest first, then by id. Without an index leading with
``verified_on`` each page sorted every record of the caller's jurisdiction (2.2 million in a city of a
million instruments) to show 25; with it a page, and a keyed next page, reads only its own rows.

The instrument search box finds names that *contain* the words typed (``LIKE '%…%'``), which no B-tree
serves: a province scanned a million names. PostgreSQL gets a pg_trgm GIN index on ``instruments.name``
(the extension is created when the server offers it and the role may; without it the search still works,
by a scan). SQLite gets an FTS5 table with the trigram tokenizer over the same column, kept by triggers
(bulk imports add each chunk in one statement, as they do the tallies: services/tallies.py); the search
looks names of three or more characters up there and still tests ``LIKE`` on the rows found, so the
answers are those of the scan.
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None

SQLITE_NAMES = [
    "CREATE VIRTUAL TABLE instrument_names USING fts5("
    "name, content='instruments', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER instrument_names_insert AFTER INSERT ON instruments BEGIN "
    "INSERT INTO instrument_names (rowid, name) VALUES (NEW.id, NEW.name); END",
    "CREATE TRIGGER instrument_names_delete AFTER DELETE ON instruments BEGIN "
    "INSERT INTO instrument_names (instrument_names, rowid, name) VALUES ('delete', OLD.id, OLD.name); END",
    "CREATE TRIGGER instrument_names_update AFTER UPDATE OF name ON instruments BEGIN "
    "INSERT INTO instrument_names (instrument_names, rowid, name) VALUES ('delete', OLD.id, OLD.name); "
    "INSERT INTO instrument_names (rowid, name) VALUES (NEW.id, NEW.name); END",
    "INSERT INTO instrument_names (instrument_names) VALUES ('rebuild')",
]


def upgrade() -> None:
    op.create_index("ix_verification_records_verified", "verification_records", ["verified_on", "id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_NAMES:
            bind.exec_driver_sql(statement)
        return
    available = bind.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') "
        "AND (EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') "
        "OR (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user))"
    ).scalar()
    if available:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        bind.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_instruments_name_trgm ON instruments USING gin (name gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS instrument_names_{trigger}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS instrument_names")
    else:
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_instruments_name_trgm")
    op.drop_index("ix_verification_records_verified", table_name="verification_records")
