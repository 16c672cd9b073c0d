"""Use cases: the only layer that combines the engines, the store and the audit trail."""
