"""The console and the public portal: page routes, templates and static assets (vendored, offline).

Pages call the same service functions as the JSON API (``jiliang.api``), which serves JSON only.
``ROUTERS`` lists the page modules in the order ``api/app.py`` mounts them.
"""

ROUTERS = [
    "verify",
    "uncertainty",
    "comparison",
    "traceability",
    "market",
    "indicators",
    "account",
    "admin",
    "docs",
    "supervision_places",
    "state_evaluation",
    "supervision",
    "public",
    "enterprise",
    "admin_catalogue",
    "market_console",
    "market_inspectors",
    "market_calculator",
    "market_portal",
    "energy",
    "institution",
    "telemetry_devices",
    "warnings",
]
