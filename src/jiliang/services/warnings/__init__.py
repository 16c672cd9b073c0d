"""Warnings worked to closure (预警 → 处置; issue 11 and the energy imbalances of issue 13; docs/telemetry.md).

- ``records``: a warning raised by the telemetry detectors or by an energy balance check gets its owner,
  region and deadline, a transparency-log leaf and a notification in the outbox, in the raiser's
  transaction;
- ``workflow``: assign → inspect → dispose → close (the pure rules are ``telemetry.workflow``), with the
  effects of each step: the registry (out of service, verification due), credit events, enforcement
  cases, log leaves and notifications;
- ``queries``: the warning list per jurisdiction with its filters, one warning with its evidence series
  and steps, the assigned-to-me list, the risk list (风险防控清单) by region and instrument type and its CSV.
"""
