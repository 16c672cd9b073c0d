"""Entities, value objects and rules of legal metrology: pure Python, no I/O."""
