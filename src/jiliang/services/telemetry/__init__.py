"""Remote supervision, the stateful part (issue 11; docs/telemetry.md).

- ``credentials``: per-device secrets hashed in Mosquitto's PBKDF2-SHA512 format;
- ``devices``: register a registry instrument as a device, authenticate a device or gateway;
- ``ingest``: exactly-once ingestion of a batch (validation, quarantine, readings, detectors, warnings);
- ``queries``: warnings, readings and quarantine counts, within the caller's jurisdiction;
- ``broker``: the Mosquitto password and ACL files generated from the device registry;
- ``ingester``: the MQTT ingester process (paho-mqtt 2, MQTT 5 shared subscription, ack after commit).
"""
