"""SQLAlchemy models, the audit listener, engines and Alembic migrations. Only services import this."""
