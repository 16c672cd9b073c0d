"""The supervisor's console work (市场监管局计量处): search and lists, 督办 follow-ups, object history.

``search`` finds instruments, organisations, standards, records and certificates inside the caller's
jurisdiction; ``followup`` marks overdue instruments for follow-up and reminds their owners through the
outbox; ``history`` reads one object's audit trail as sentences a person reads (names, not ids);
``regions`` draws the region tree with each node's indicators. Every read goes through ``services.scope``.
"""
