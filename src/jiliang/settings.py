"""The one validated settings object, built once in the composition root and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-only-secret-change-me"


class CoverageDefinition(BaseSettings):
    """How the coverage indicators are counted. No official formula is published (see docs/indicators.md)."""

    model_config = SettingsConfigDict(env_prefix="JILIANG_COVERAGE_", extra="forbid")

    # Instruments suspended after a failed verification leave the denominator by default, because the
    # plan's rate counts instruments *in service*; set True to count them as uncovered instead.
    count_suspended: bool = False
    # Days after the due date during which an instrument still counts as covered (0 = none).
    grace_days: int = Field(default=0, ge=0, le=365)
    # Days ahead in which an approval certificate of a measurement standard counts as "expiring".
    expiring_within_days: int = Field(default=90, ge=1, le=3650)
    # 建标覆盖率: a standard serves its own region's subtree, and (True) also the counties under the city
    # that holds it, since county offices rely on the city's social public standards. False counts only a
    # region's own standards.
    standards_from_ancestors: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JILIANG_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///jiliang-data/jiliang.db"
    secret_key: str = DEV_SECRET
    token_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    import_chunk_rows: int = Field(default=20_000, ge=100)
    import_max_reported_problems: int = Field(default=1000, ge=1)
    # Files at least this large are read and checked in a worker process while this one writes (issue 16).
    # Off by default: on the shared 2-core machine it measured slower (docs/benchmarks.md); for a machine
    # with an idle core. The worker's start costs about 0.9 s of CPU.
    import_worker_min_bytes: int | None = Field(default=None, ge=0)
    page_size_max: int = Field(default=1000, ge=10)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1)
    # Worker threads for the API's synchronous routes. Few threads keep the GIL from thrashing: measured
    # on 2 cores, 100 concurrent clients got 598 req/s with 2 threads and 404 with AnyIO's default 40.
    api_threads: int = Field(default=4, ge=1, le=200)
    # Argon2id cost (RFC 9106 §4: 64 MiB, 3 passes is the second recommended option). Tests lower it.
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_time_cost: int = Field(default=3, ge=1)
    # Traceability: a link whose test uncertainty ratio (tolerance / 2u) is below this is warned about
    # (4:1 after ANSI/NCSL Z540.3 and ILAC practice); chains deeper than max_depth links count as broken.
    min_test_uncertainty_ratio: float = Field(default=4.0, gt=0)
    traceability_max_depth: int = Field(default=12, ge=2, le=64)
    coverage: CoverageDefinition = Field(default_factory=CoverageDefinition)
    data_dir: Path = Path("jiliang-data")
    # Remote supervision (docs/telemetry.md): where Mosquitto's generated password and ACL files live;
    # when set, bulk device provisioning regenerates them (then SIGHUP the broker).
    telemetry_broker_dir: Path | None = None
    # Telemetry history (docs/telemetry.md "History"): readings older than the recent window (whole
    # Asia/Shanghai days) move from the database to Parquet under telemetry_history_dir (default
    # <data_dir>/telemetry-history); day partitions older than telemetry_history_days are dropped. The
    # window must outlast the oldest reading ingestion accepts (30 days), or a redelivery could count twice.
    telemetry_history_dir: Path | None = None
    telemetry_recent_days: int = Field(default=31, ge=1, le=366)
    telemetry_history_days: int = Field(default=3 * 366, ge=1, le=100 * 366)
    # Where the public verification page is reached: printed in each certificate's QR code (…/v/<number>).
    public_url: str = "http://127.0.0.1:8000"
    # Encrypts every stored signing key (PKCS#8). Unset: a fixed demo passphrase in development and test
    # (with a warning), refused in production. See docs/signatures.md.
    signing_key_passphrase: SecretStr | None = None
    # Extra trusted root certificates (*.pem, *.crt) for verifying DCCs signed elsewhere.
    trusted_roots_dir: Path | None = None
    signing_key_algorithm: Literal["ecdsa-p256", "rsa-3072"] = "ecdsa-p256"
    signing_certificate_days: int = Field(default=3 * 365, ge=1, le=20 * 365)
    # Transparency log (docs/transparency.md): the origin line of its checkpoints, which also names its
    # Ed25519 key, and the passphrase that encrypts that key at rest (JILIANG_LOG_KEY_PASSPHRASE).
    # Unset outside production, a fixed development passphrase is used with a warning; in production the
    # log refuses to create or use its key without one.
    log_origin: str = Field(default="jiliang.example/log", pattern=r"^[^\s+]+$", max_length=200)
    log_key_passphrase: str | None = Field(default=None, min_length=8)
    # Market supervision (docs/market.md): the key that encrypts complainants' identities at rest
    # (JILIANG_COMPLAINT_KEY, any string of 16+ characters; AES-256-GCM under its SHA-256). Unset outside
    # production, a fixed development key is used with a warning; in production complaints are refused.
    complaint_key: SecretStr | None = None
    # Photos an inspector may attach to one market result (JPEG/PNG), and the largest one in bytes
    # (services/market/photos.py; a phone's camera photo is 2-5 MB).
    market_photo_max_count: int = Field(default=6, ge=0, le=50)
    market_photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)

    # Where every signed tree head is appended as it is published, outside the database
    # (docs/transparency.md "Published outside the database"); default <data_dir>/log-published. Ship
    # this folder elsewhere (rsync, object storage with retention lock): it is what a database rollback
    # cannot rewrite.
    log_publish_dir: Path | None = None
    # `jiliang serve` re-derives every leaf from the register and compares it with the log this often
    # (services/reconciliation.py; findings logged at ERROR level); 0 leaves it to cron.
    reconcile_every_minutes: int = Field(default=60, ge=0)
    # Complaints accepted from one client address per hour through the public form (web/market_portal.py).
    complaint_rate_per_hour: int = Field(default=5, ge=1, le=1000)
    # Warning workflow (docs/telemetry.md): hours from raising (or assignment) to disposal, per severity.
    warning_deadline_critical_h: float = Field(default=72.0, gt=0, le=24 * 365)
    warning_deadline_warning_h: float = Field(default=168.0, gt=0, le=24 * 365)
    warning_deadline_info_h: float = Field(default=720.0, gt=0, le=24 * 365)
    # Console sessions (docs/console.md): server-side rows, the cookie holds only a random token. A session
    # ends after idle minutes without a request, and in any case absolute hours after sign-in.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Sign-in throttling (OWASP Authentication Cheat Sheet): after backoff_after failures each further try
    # waits 2^(n - backoff_after) s (capped), and lockout_failures within window minutes lock the account
    # name (or the client address, at address_failures) for lockout_minutes. Unknown names alike.
    signin_backoff_after: int = Field(default=3, ge=1)
    signin_backoff_max_s: int = Field(default=60, ge=1)
    signin_lockout_failures: int = Field(default=10, ge=2)
    signin_address_failures: int = Field(default=50, ge=2)
    signin_window_minutes: int = Field(default=15, ge=1)
    signin_lockout_minutes: int = Field(default=15, ge=1)
    # Threads that compute Argon2 hashes, apart from the request threads, so a flood of wrong passwords
    # queues there instead of starving every other request (benchmarks/bench_signin.py).
    argon2_threads: int = Field(default=1, ge=1, le=64)

    # Reliability under load (docs/security.md). A unit of work waits this long for the write lock (SQLite) or
    # a pooled connection before it is refused with 503 and Retry-After; nothing is half-written.
    write_wait_s: float = Field(default=10.0, gt=0, le=300)
    # Exports are read into a spooled temporary file (in memory up to export_spool_bytes) before the first
    # byte is sent, so no connection waits on a slow client; a client that takes no bytes for export_stall_s
    # is dropped. At most exports_per_user run at once per user (429) and exports_total in all (503).
    export_spool_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024)
    export_stall_s: float = Field(default=60.0, gt=0)
    exports_per_user: int = Field(default=2, ge=1)
    exports_total: int = Field(default=6, ge=1)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("JILIANG_SECRET_KEY must be set in production / 生产环境必须设置密钥")
        return self
