"""Remote supervision (远程监管), the pure part: payload schemas, typed readings, detectors, warnings.

- ``payloads``: versioned JSON-schema payloads per instrument type and their validation to ``Reading``s;
- ``profiles``: what a detector needs to know about one instrument (type, MPE, reporting interval);
- ``detectors``: documented pure functions over a batch of readings plus per-instrument state;
- ``synthetic`` and ``evaluation``: a seeded labelled data set with injected faults, and the scores.

Nothing here touches the database or the network; ``services/telemetry`` does (docs/telemetry.md).
"""
