"""Configuration defaults.

Precedence (STYLE.md §6.7 rule 13): Config < instance/portal.cfg < PORTAL_* environment < the mapping passed to
create_app (tests). There is no default SECRET_KEY: `make run` (scripts/ensure-instance.sh) writes a random one into
instance/portal.cfg, production sets PORTAL_SECRET_KEY (with PORTAL_DATABASE_URL and PORTAL_REPORTER_KEY), and the
app refuses to start with a missing, short or publicly known key (check_secret_key).
"""
from __future__ import annotations

from datetime import timedelta

SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 12
# Keys that were ever public (this repository's old default, tutorial values): never accepted.
PUBLIC_SECRET_KEYS = frozenset({"dev-only-not-secret", "test", "dev", "secret", "changeme", "change-me",
                                "fault-tests", "development", "super-secret", "your-secret-key"})
# TestConfig's key is in the repository too: accepted only when TESTING is on.
TEST_SECRET_KEY = "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


MIN_RAW_RECORD_RETENTION_YEARS = 5  # 《生态环境监测条例》 art. 26


def check_retention(years) -> str | None:
    """Why RAW_RECORD_RETENTION_YEARS is not acceptable (None when it is): at least 5 whole years (Art. 26)."""
    if isinstance(years, bool) or not (isinstance(years, int) or (isinstance(years, str) and years.strip().isdigit())):
        return f"RAW_RECORD_RETENTION_YEARS must be a whole number of years, not {years!r}."
    value = int(years)
    if value < MIN_RAW_RECORD_RETENTION_YEARS:
        return (f"RAW_RECORD_RETENTION_YEARS is {value}; the Regulations on Ecological and Environmental Monitoring "
                f"(art. 26) require raw records to be kept at least {MIN_RAW_RECORD_RETENTION_YEARS} years.")
    return None


def check_secret_key(key, *, testing: bool = False) -> str | None:
    """Why a SECRET_KEY is not good enough to sign session cookies (None: it is). A forged cookie needs only the
    key, so it must be long, random-looking and never a value published anywhere."""
    if not key:
        return ("SECRET_KEY is not set. Run `make run` (it writes a random key into instance/portal.cfg) or set "
                "PORTAL_SECRET_KEY to the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
    if text.strip().lower() in PUBLIC_SECRET_KEYS or (text == TEST_SECRET_KEY and not testing):
        return "SECRET_KEY is a publicly known value. Generate a random one: python -c 'import secrets; " \
               "print(secrets.token_urlsafe(48))'"
    if len(text) < SECRET_KEY_MIN_LENGTH or len(set(text)) < SECRET_KEY_MIN_DISTINCT:
        return (f"SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters, e.g. the output of "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return None


# Keys this repository once shipped as defaults: whoever has the code has them, so they protect nothing.
PUBLIC_DATA_KEYS = frozenset({"ZGV2LW9ubHktcmVwb3J0ZXIta2V5LW5vdC1zZWNyZXQ=", "dev-only-audit-key-not-secret",
                              "dGVzdC1yZXBvcnRlci1rZXktMzItYnl0ZXMtbG9uZyE=", "test-audit-key"})


def check_data_keys(reporter_key, audit_key, *, testing: bool = False) -> str | None:
    """Why REPORTER_KEY (encrypts reporter identities, second-factor secrets and device keys) or AUDIT_KEY (signs
    the audit log) cannot protect anything (None: both can). Tests run with the repository's test keys."""
    if testing:
        return None
    from cryptography.fernet import Fernet

    reporter = [k.strip() for k in str(reporter_key or "").split(",") if k.strip()]
    if not reporter:
        return ("REPORTER_KEY is not set. Run `make run` (it writes one into instance/portal.cfg) or set "
                "PORTAL_REPORTER_KEY to the output of: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'")
    if reporter[0] in PUBLIC_DATA_KEYS:  # later keys only decrypt what older installations wrote
        return "REPORTER_KEY is a publicly known value: put a new Fernet key first (keep the old one after it)."
    for key in reporter:
        try:
            Fernet(key)
        except ValueError:
            return "REPORTER_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
    audit = [k.strip() for k in str(audit_key or "").split(",") if k.strip()]
    if not audit:
        return ("AUDIT_KEY is not set. Run `make run` (it writes one into instance/portal.cfg) or set "
                "PORTAL_AUDIT_KEY to the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if audit[0] in PUBLIC_DATA_KEYS or len(audit[0]) < SECRET_KEY_MIN_LENGTH \
            or len(set(audit[0])) < SECRET_KEY_MIN_DISTINCT:
        return (f"AUDIT_KEY is public or too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return None


class Config:
    SECRET_KEY = ""  # no default: instance/portal.cfg (written by `make run`) or PORTAL_SECRET_KEY; see check_secret_key
    # PORTAL_DATABASE_URL is the documented name; it is mapped onto SQLALCHEMY_DATABASE_URI in create_app.
    SQLALCHEMY_DATABASE_URI = "sqlite:///portal.sqlite3"  # relative: Flask-SQLAlchemy puts it in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False
    # PORTAL_DATABASE_REPLICA_URL: a PostgreSQL streaming replica for public reads (portal/core/replica.py).
    DATABASE_REPLICA_URL = ""
    REPLICA_MAX_LAG_SECONDS = 30  # a replica further behind than this is not read from
    REPLICA_COOKIE_SECONDS = 600  # how long a writer's WAL position is remembered for read-your-own-writes

    # Languages (Chinese first, English complete).
    LANGUAGES = ("zh_CN", "en")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    PORTAL_TIMEZONE = "Asia/Shanghai"

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (PORTAL_SESSION_COOKIE_SECURE=true)
    SESSION_COOKIE_NAME = "portal_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # Served over HTTPS (PORTAL_HTTPS=true): Secure cookies named with the __Host- prefix (portal/auth/sessions.py).
    HTTPS = False
    # Server-side sessions [M]: idle timeout for regulators, leads and administrators, for everyone else, and the
    # absolute lifetime of a login however active it is.
    SESSION_IDLE_MINUTES_PRIVILEGED = 30
    SESSION_IDLE_MINUTES = 120
    SESSION_ABSOLUTE_HOURS = 12
    # Password reset links [M] and the time between the password step and the second-factor step of a login.
    PASSWORD_RESET_MINUTES = 30
    REGISTRATION_LINK_MINUTES = 60  # [M] the mailed link that finishes a self-registration
    AUTH_RETENTION_DAYS = 90  # [M] auth-housekeeping purges ended sessions, spent links, old login throttles
    LOGIN_FACTOR_MINUTES = 5
    TOTP_ISSUER = "企业环境信用与信息披露平台"
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Rate limits (Flask-Limiter). memory:// is per worker; use redis://127.0.0.1:6379 in production.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "20 per minute"
    # Progressive lockout: after LOCKOUT_THRESHOLD failures the account waits LOCKOUT_BASE_SECONDS, doubling each
    # further failure, capped at LOCKOUT_MAX_SECONDS (NIST 800-63B §5.2.2 throttling).
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_BASE_SECONDS = 30
    LOCKOUT_MAX_SECONDS = 3600
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MAX_LENGTH = 128

    # Uploads.
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024

    # Mail: with MAIL_SERVER unset, messages are written as .eml files under instance/mail/.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "noreply@portal.example.cn"
    MAIL_DIR = ""  # default: instance/mail

    # File storage (portal/core/storage.py): "filesystem" keeps each area in its directory (under instance/ unless
    # the area's *_DIR setting says otherwise); "s3" keeps every file in one bucket of an S3-protocol object store
    # (MinIO, Ceph RGW, a cloud's store) so that every host reads what any host wrote. PORTAL_STORAGE=s3 with
    # PORTAL_STORAGE_S3_ENDPOINT (e.g. http://minio:9000), _BUCKET, _ACCESS_KEY, _SECRET_KEY; _REGION and _PREFIX
    # (a key prefix to share a bucket between installations) are optional; _ADDRESSING "path" (default) or "virtual".
    STORAGE = "filesystem"
    STORAGE_S3_ENDPOINT = ""
    STORAGE_S3_BUCKET = ""
    STORAGE_S3_ACCESS_KEY = ""
    STORAGE_S3_SECRET_KEY = ""
    STORAGE_S3_REGION = "us-east-1"
    STORAGE_S3_PREFIX = ""
    STORAGE_S3_ADDRESSING = "path"
    # Static files (portal/core/staticfiles.py, WhiteNoise): a URL from url_for('static') carries the file's
    # content hash (?v=...) and is cached for a year; any other static URL for STATIC_MAX_AGE seconds.
    STATIC_MAX_AGE = 3600
    STATIC_WHITENOISE = True

    # Public base URL of every absolute link (API, Open311, feeds, datapackage.json, e-mails, PDFs, QR codes):
    # PORTAL_PUBLIC_BASE_URL. Unset: the address the portal serves, http://PORTAL_HOST:PORTAL_PORT (portal.core.links).
    PUBLIC_BASE_URL = ""

    # Scheduler: the job store lives in the portal database unless set. Several scheduler processes elect one
    # leader through a lease (portal/jobs/lease.py): a dead leader is replaced within LEASE + RENEW seconds [M].
    SCHEDULER_JOBSTORE_URL = ""
    # "procrastinate" (PostgreSQL only): the scheduler queues jobs and `flask jobs worker` processes run them.
    JOBS_QUEUE = ""
    QUEUE_STALLED_SECONDS = 30  # a worker silent this long is dead: its running jobs go back to the queue
    SCHEDULER_LEASE_SECONDS = 20
    SCHEDULER_RENEW_SECONDS = 5
    SCHEDULER_STALE_SECONDS = 60  # /healthz calls the scheduler "stale" when its heartbeat is older than this
    HEALTHZ_DETAIL_SECONDS = 1.0  # /healthz recomputes the heartbeat and queue depths at most this often per process
    JOB_RUN_RETENTION_DAYS = 90  # job-runs-prune deletes older finished runs (the newest of each job is kept)
    # 监测条例 Art. 26: raw monitoring records (packets, values, manual results, lab reports) are kept at least 5
    # years; the app refuses to start with less. No job purges raw records (job-runs-prune and the search
    # change log delete only operational rows); a future purge must keep everything younger than this.
    RAW_RECORD_RETENTION_YEARS = 5
    # Minute data past its working life (portal/monitoring/compaction.py): packed per outlet, pollutant and day after
    # this many days (0: never), a bounded number of rows per run; each data type kept its own number of years,
    # never fewer than RAW_RECORD_RETENTION_YEARS, e.g. {"hour": 10, "day": 10, "manual": 10}.
    MONITORING_COMPACT_AFTER_DAYS = 30
    MONITORING_COMPACT_MAX_ROWS = 2_000_000
    MONITORING_RETENTION_YEARS: dict = {}
    MONITORING_RETENTION_BATCH = 50_000
    ANOMALY_REPORT_HOURS = 12  # 监测条例 Art. 23 [M]: report a transmission anomaly within 12 h of noticing it
    ANOMALY_REPAIR_WORKING_DAYS = 5  # ... and repair the equipment within 5 working days
    # Outbox: a sender claims messages for this long; a claim left by a dead sender is taken again after it.
    OUTBOX_CLAIM_SECONDS = 300

    # Business defaults that DOMAIN.md tags [M]: configurable.
    PERMIT_RENEWAL_REMINDER_DAYS = 60
    # Permit execution reports (DOMAIN §5.11) [M]: frequencies per management class (year / half / quarter / month;
    # registration-class units owe none), the annual report's MM-DD in the following year (a lead re-dates a year),
    # and the day of the month the half-year, quarterly and monthly reports are due.
    PERMIT_REPORT_FREQUENCIES: dict = {"key": ["year", "quarter"], "simplified": ["year"], "registration": []}
    PERMIT_REPORT_ANNUAL_DUE = "01-15"
    PERMIT_REPORT_DUE_DAY = 15
    # Disclosure (DOMAIN §1.4): annual report due on this MM-DD of the following year, inclusive; a jurisdiction may
    # set its own day by region-code prefix, e.g. {"4403": "02-10"} (the longest prefix wins).
    DISCLOSURE_ANNUAL_DEADLINE = "03-15"
    DISCLOSURE_ANNUAL_DEADLINES: dict = {}

    # Complaints (DOMAIN §6). REPORTER_KEY: Fernet key(s), comma-separated, first one encrypts (reporter identities,
    # and by default second-factor secrets and HJ 212 device keys). No default: instance/portal.cfg
    # (scripts/ensure-instance.sh) or PORTAL_REPORTER_KEY; the app refuses to start without one (check_data_keys).
    REPORTER_KEY = ""
    COMPLAINT_UPLOAD_DIR = ""  # default: instance/uploads/complaints
    COMPLAINT_MAX_FILE_BYTES = 10 * 1024 * 1024
    COMPLAINT_MAX_REQUEST_BYTES = 60 * 1024 * 1024  # read oversize files to say which one is too big
    COMPLAINT_MAX_IMAGE_PIXELS = 40_000_000
    COMPLAINT_RATE_LIMIT = "10 per minute;100 per day"  # shared by web, JSON and XML intake (core/ratelimits.py)
    PUBLIC_PDF_RATE_LIMIT = "20 per minute;300 per day"  # all public PDFs together, per address
    COMPLAINT_DUPLICATE_RADIUS_M = 500
    COMPLAINT_DUPLICATE_DAYS = 30
    # Files of a form that failed validation, kept for the reporter's next attempt (complaints/pending.py).
    COMPLAINT_PENDING_TTL_SECONDS = 3600
    COMPLAINT_PENDING_MAX_SETS = 500
    OPEN311_API_KEYS: dict = {}  # {"key": "partner name"}; partners post DISPATCH_12345 cases
    OPEN311_JURISDICTION_ID = "portal.example.cn"
    # Rewards for verified reports (DOMAIN §6.6): the table used where a lead has set none (Shandong's three bands).
    REWARD_TABLE_DEFAULT: dict = {
        "tiers": [{"code": "general", "label": "一般环境违法行为", "label_en": "Ordinary violation", "amount_yuan": 500},
                  {"code": "serious", "label": "较重环境违法行为", "label_en": "Serious violation", "amount_yuan": 1000},
                  {"code": "major", "label": "重大环境违法行为", "label_en": "Major violation", "amount_yuan": 2000}],
        "insider_bonus_percent": 50, "max_amount_yuan": 10000}

    # Enterprise environmental code (企业环保码): keys laid over portal/envcode/rules.py DEFAULT_RULES, e.g.
    # {"open_incidents": [{"at_least": 1, "colour": "red"}]}; the mapping in force is shown on /code/rules.
    ENVCODE_RULES: dict = {}
    # Open days (企业开放日): public registration throttle, like complaint intake.
    OPENDAY_RATE_LIMIT = "10 per minute;100 per day"

    # HJ 212 TCP listener (`flask devices listen`, its own process): data loggers connect here. A connection silent
    # for IDLE_SECONDS is closed (loggers reconnect); MAX_CONNECTIONS bounds open sockets; WORKERS threads ingest.
    HJ212_LISTEN_HOST = "0.0.0.0"
    HJ212_LISTEN_PORT = 9212
    HJ212_LISTEN_IDLE_SECONDS = 600
    HJ212_LISTEN_MAX_CONNECTIONS = 1000
    HJ212_LISTEN_WORKERS = 4
    # A registered, active device from which nothing was accepted for more than this many hours opens one
    # transmission-anomaly finding per silence episode (hourly job, portal/monitoring/silence.py; DOMAIN §5.11, R12).
    HJ212_SILENCE_HOURS = 4

    # Audit log (portal/audit): HMAC key(s) kept outside the database, comma-separated, the first signs new records
    # and seals, all verify (rotation: put the new key first, keep the old ones). No default: a public key would let
    # anyone re-sign a rewritten log; scripts/ensure-instance.sh writes one into instance/portal.cfg, production sets
    # PORTAL_AUDIT_KEY, and the app refuses to start without one of real strength (check_data_keys).
    AUDIT_KEY = ""
    AUDIT_CHAINS = 16  # independent chains (shard key: enterprise id); changing it only affects new transactions

    # Search
    HOME_STATS_TTL = 60  # seconds the home page's registry totals are cached per process
    SEARCH_PER_PAGE = 20
    API_MAX_PER_PAGE = 100
    # Search API responses cached per process and keyed by the search data version (portal/search/cache.py);
    # 0 turns the cache off. The TTL only bounds a writer that bypasses the version.
    SEARCH_PG_WORK_MEM = "32MB"  # PostgreSQL work_mem for the capped count of a name search (SET LOCAL)
    # PostgreSQL: a name search on a registry of at least SEARCH_PG_SAMPLE_MIN_ROWS first counts a ~2,000-row page
    # sample, and skips the exact count ("5,000+") when the sample projects more than FACTOR x 5,000 matches
    # (portal/search/pgcount.py). FACTOR 0 turns the sample off.
    SEARCH_PG_SAMPLE_FACTOR = 2.0
    SEARCH_PG_SAMPLE_MIN_ROWS = 200_000
    SEARCH_CACHE_SIZE = 2048
    SEARCH_CACHE_TTL = 300
    CACHE_REDIS_URL = ""  # PORTAL_CACHE_REDIS_URL=redis://host:6379/1 shares the API response cache across hosts


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = TEST_SECRET_KEY
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    HOME_STATS_TTL = 0
    REPORTER_KEY = "dGVzdC1yZXBvcnRlci1rZXktMzItYnl0ZXMtbG9uZyE="
    AUDIT_KEY = "test-audit-key"
