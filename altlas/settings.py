"""One settings object, read from ALTLAS_* environment variables and checked at start-up."""

from __future__ import annotations

import json
import socket
from base64 import b64decode
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from altlas.environment import (
    INSTALLATION_POLICY,
    DatabaseURL,
    checked_views_url,
    default_data_dir,
    events_url,
    level_for,
    parse_database_url,
    store_env,
    views_url,
)

__all__ = ["INSTALLATION_POLICY", "DatabaseURL", "Settings", "SettingsError", "load_settings",
           "parse_database_url", "settings_env"]


RATE_LIMITS = {"replay": 20, "export": 5, "verify": 5, "similar": 60}


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALTLAS_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded default keeps its SQLite event store.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://USER:PASSWORD@HOST:PORT/DBNAME[?schema=NAME]; "
        "unset = embedded SQLite in ALTLAS_DATA_DIR.",
    )
    cipher_key: SecretStr | None = Field(
        default=None,
        description="Encrypts the stored events at rest with the event store library's "
        "AES-GCM cipher: a base64 AES key, as `altlas key new` makes; unset = stored in clear. "
        "A store is read only with the key it was begun with.")
    policy_file: Path | None = Field(
        default=None, description="Risk policy YAML; unset = policy.yaml in ALTLAS_DATA_DIR "
        "when `altlas init` wrote one, else the built-in default policy."
    )
    views_database_url: SecretStr | None = Field(
        default=None,
        description="Read models: sqlite:///PATH or postgresql://…[?schema=NAME]; unset = "
        "views.sqlite3 in ALTLAS_DATA_DIR, or beside a PostgreSQL store schema STORE_views "
        "(altlas_views for a store without a schema).",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None, description="host:port[,host:port]; unset = no Kafka (embedded feed)."
    )
    kafka_topic_prefix: str = Field(default="altlas", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    kafka_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_replication: int = Field(default=1, ge=1, le=10)
    relay_batch_size: int = Field(default=500, ge=1, le=100_000)
    checkpoint_every: int = Field(default=1000, ge=1)
    replay_cache_bytes: int = Field(
        default=256 * 2**20, ge=0, description="How much disk the views replayed as of a "
        "moment (`--as-of`, `?as_of=`) may take in ALTLAS_DATA_DIR/as-of; past it the "
        "least recently used are removed (the newest always stays).")
    rate_limits: dict[str, int] = Field(
        default_factory=lambda: dict(RATE_LIMITS), description="How many times a minute "
        "one person may ask the API or chat for each expensive work, as JSON: "
        '{"replay": 20, "export": 5, "verify": 5, "similar": 60} (replay: anything as of a '
        "time); a work left out keeps its default, 0 is no limit. The command line is not "
        "counted.")
    witness_file: Path | None = Field(
        default=None, description="Embedded feed: a file outside ALTLAS_DATA_DIR, in a "
        "directory the store's owner cannot write, where how far the history went is "
        "appended after every batch, for `audit verify` (with Kafka the topic is the "
        "witness); unset = no witness.")
    witness_url: str | None = Field(
        default=None, description="Embedded feed, instead of ALTLAS_WITNESS_FILE: an HTTP "
        "sink on a host the store's owner does not control; each line is POSTed to it and a "
        "GET answers them all.")
    poll_interval_ms: int = Field(
        default=250, ge=1, le=60_000,
        description="How often an idle follower looks for new events that nothing woke it "
        "for (events recorded by another process on SQLite).")
    segmenter: Literal["auto", "rules", "local", "litellm"] = Field(
        default="auto", description="auto: the local model if its extra is installed, else rules")
    segmenter_readings: int = Field(
        default=2, ge=1, le=2, description="2: a model's plan is read a second time, sampled, "
        "and when the two readings differ altlas asks which was meant; 1: the first is taken")
    local_model: str = Field(default="smollm2", description="smollm2, qwen2.5-coder-0.5b, "
                             "or the path of a .gguf file")
    model_cache: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("altlas")) / "models",
        description="Assembled split models and their verification stamps, shared by all "
        "data directories.")
    models_dir: Path | None = Field(
        default=None, description="The only directory `models add` (CLI and HTTP) reads "
        "GGUF files from; relative paths are taken in it, and a symlink out of it is "
        "refused. Unset = models in ALTLAS_DATA_DIR.")
    llm_threads: int = Field(default=2, ge=1, le=64)
    register_packaged: bool = Field(
        default=True, description="Register the packaged models (SmolLM2, Qwen2.5-Coder) "
        "when serve, a chat front or a worker starts; false leaves the registry to "
        "`altlas models add`")
    training_min_examples: int = Field(
        default=50, ge=1, le=1_000_000, description="A training set smaller than this is "
        "refused, with the count still needed")
    training_progress_seconds: float = Field(
        default=10.0, ge=0, le=3600, description="How often a training worker records its "
        "progress (step, loss, tokens/s, eta) at most; each record is also its heartbeat")
    training_heartbeat_seconds: float = Field(
        default=120.0, gt=0, le=86400, description="A training whose worker said nothing "
        "for this long is recorded as failed")
    training_auto_examples: int = Field(
        default=0, ge=0, le=1_000_000, description="Ask for a training by itself once this "
        "many new examples (successful runs, arena winners) accumulated since the last one; "
        "an approver still decides. 0: only when someone asks")
    training_dev_file: Path = Field(
        default=Path(__file__).resolve().parents[1] / "tests" / "data" /
        "segmentation_dev.json", description="The labelled file a training set adds to the "
        "history's examples")
    evaluation_file: Path = Field(
        default=Path(__file__).resolve().parents[1] / "tests" / "data" /
        "segmentation_test.json", description="The labelled file a trained adapter is "
        "measured on against its base (the frozen test file: never trained on)")
    evaluation_sample: int = Field(
        default=0, ge=0, le=100_000, description="Measure a seeded sample of this many of its "
        "requests; 0: all of them")
    arena_run_weight: float = Field(
        default=0.5, gt=0, le=10, description="What a run's outcome weighs as a match between "
        "the plan that ran and the arena's alternative for it, a person's vote weighing 1")
    litellm_model: str | None = Field(default=None, description="e.g. openai/gpt-4o-mini")
    litellm_api_base: str | None = None
    litellm_api_key: SecretStr | None = None
    secrets_file: Path | None = Field(
        default=None, description="The values of {secret:NAME} in plans, as NAME=value lines "
        "(ALTLAS_SECRET_NAME variables too, which win); readable by its owner only "
        "(chmod 600), or altlas refuses to start.")
    ssh_known_hosts: Path | None = Field(default=None, description="known_hosts for ssh steps")
    ssh_key: Path | None = Field(default=None, description="private key for ssh steps")
    ssh_user: str | None = None
    ssh_connect_timeout: float = Field(default=10.0, gt=0, le=300)
    prometheus_url: str | None = Field(default=None, description="Prometheus for promql steps")
    runner_parallelism: int = Field(default=4, ge=1, le=64)
    aggregate_cache: int = Field(
        default=10_000, ge=0, le=10_000_000,
        description="Aggregates a process keeps in memory between commands (0: none). A "
        "cached aggregate another process changed meanwhile makes the save conflict, and "
        "the command is decided again on what is recorded.")
    output_cap_bytes: int = Field(default=65_536, ge=1024, le=10_000_000)
    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb-…; with the "
                                              "signing secret, `serve` mounts /slack/events")
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(default=None, description="xapp-…: Socket Mode "
                                              "instead of HTTP (`altlas slack`)")
    slack_api_url: str | None = Field(default=None, description="the Web API base URL, for "
                                      "Slack's other clouds (GovSlack) or a test double")
    discord_token: SecretStr | None = Field(default=None, description="the bot token; "
                                            "`altlas discord` runs the bot")
    discord_guild_id: int | None = Field(default=None, description="sync commands to this "
                                         "guild at once instead of globally")
    wakeup: bool = Field(
        default=True,
        description="Wake workers when events are recorded (in the process, and with "
        "PostgreSQL from other processes by LISTEN/NOTIFY); off (e.g. behind a pooler "
        "without LISTEN): they poll every ALTLAS_POLL_INTERVAL_MS.")
    worker_lease_seconds: float = Field(
        default=15.0, ge=1, le=3600,
        description="A worker that has not renewed its lease for this long is gone: others "
        "take over the steps it held.")
    worker_stop_seconds: float = Field(
        default=30.0, ge=0, le=3600,
        description="How long a stopping worker lets its running steps finish.")
    http_host: str = Field(default="127.0.0.1", description="Address `altlas serve` binds.")
    http_port: int = Field(default=8080, ge=1, le=65535, description="Port `altlas serve` binds.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824,
        description="Request bodies over this many bytes are refused (413) on every HTTP "
        "route, Slack's included, before they are read in full.")
    max_alert_body_bytes: int = Field(
        default=33_554_432, ge=1024, le=1_073_741_824,
        description="Alertmanager's webhook (POST /alerts/alertmanager) carries a whole group "
        "of alerts: its bodies may be this large (32 MiB, about 100,000 alerts).")
    ui_signed_in_seconds: int = Field(
        default=28_800, ge=60, le=2_592_000,
        description="How long a dashboard session lasts after signing in with a token "
        "(8 hours); then the person signs in again.")
    ui_chat_first_seconds: float = Field(
        default=1.0, ge=0, le=60,
        description="While chat, API or webhook requests are being answered, open dashboards "
        "are told of a change once those are answered, or after this many seconds (0: at "
        "once). Slack gives an acknowledgement 3 s.")
    ui_signing_key: SecretStr | None = Field(
        default=None,
        description="What signs the dashboard's session cookies (32 characters or more). "
        "Unset: a new one at every start, which signs everyone out; set the same one on "
        "every `altlas serve` behind one address.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        default=None,
        description="Unset: INFO for the processes that keep running (serve, worker, …), "
        "WARNING for one-off commands, whose results then stand alone on standard output.")
    incident_summary: Literal["template", "model"] = Field(
        default="template",
        description="Who writes an incident's summary: the template, or the language model "
        "(ALTLAS_LITELLM_MODEL, else the local ALTLAS_LOCAL_MODEL), the template standing "
        "in when the model fails.")
    embeddings: Literal["auto", "minilm", "words"] = Field(
        default="auto",
        description="How requests are embedded for the similar-run search: minilm "
        "(all-MiniLM-L6-v2, the `search` extra), words (hashed words, no model) or auto "
        "(minilm when installed).")
    vector_store: Literal["embedded", "weaviate"] = Field(
        default="embedded",
        description="Where run vectors are kept: embedded (the views database, searched in "
        "the process) or weaviate (ALTLAS_WEAVIATE_URL).")
    weaviate_url: str = Field(
        default="http://127.0.0.1:8080", pattern=r"^https?://[^/\s]+/?$",
        description="Weaviate's HTTP address, with ALTLAS_VECTOR_STORE=weaviate.")
    weaviate_grpc_port: int = Field(default=50051, ge=1, le=65535,
                                    description="Weaviate's gRPC port.")
    weaviate_collection: str = Field(
        default="AltlasRuns", pattern=r"^[A-Z][A-Za-z0-9_]{0,99}$",
        description="The Weaviate collection of this installation's runs (a capitalised "
        "name).")
    speech_engine: Literal["faster-whisper", "whisper.cpp"] = Field(
        default="faster-whisper", description="What hears voice clips (the `speech` extra): "
        "faster-whisper (CTranslate2, int8) or whisper.cpp (pywhispercpp, the same model "
        "converted once into ALTLAS_MODEL_CACHE).")
    speech_ggml_type: Literal["f16", "q8_0"] = Field(
        default="f16", description="whisper.cpp: the weights' type the model is converted "
        "to (q8_0: half the size).")
    speech_model: str = Field(
        default="base", min_length=1, description="base (multilingual: English and "
        "Turkish), tiny.en (English only, faster), or a CTranslate2 Whisper model directory.")
    speech_threads: int = Field(default=2, ge=1, le=64)
    speech_max_bytes: int = Field(
        default=10_000_000, ge=1024, le=1_073_741_824,
        description="Voice clips over this many bytes are refused unread (10 MB).")
    speech_max_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="Voice clips longer than this are refused.")
    speech_languages: str = Field(
        default="en,tr", pattern=r"^[a-z]{2}(,[a-z]{2})*$",
        description="The languages a clip may be heard in (ISO 639-1, comma-separated): "
        "the likeliest of them is taken.")
    speech_min_language_probability: float = Field(
        default=0.2, ge=0, le=1, description="A clip whose likeliest allowed language is "
        "less probable than this is refused as a language altlas cannot place.")
    speech_min_avg_logprob: float = Field(
        default=-0.6, le=0, description="A hearing whose decoder mean log-probability is "
        "below this is shown and confirmed by the speaker before it is planned.")
    speech_max_no_speech_prob: float = Field(
        default=0.3, ge=0, le=1, description="A hearing the model thinks this likely to hold "
        "no speech is shown and confirmed by the speaker before it is planned.")
    speech_plan_at_once: Literal["read_only", "confident", "never"] = Field(
        default="read_only", description="Which hearings are planned without their speaker "
        "confirming: read_only (the decoder was sure, and the request only reads, on hosts "
        "the inventory has: a confident mishearing cannot plan a change), confident (any "
        "hearing the decoder was sure of), or never.")
    instance_name: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=200,
        description="What this installation calls itself: the source of its .atlas exports.")

    @model_validator(mode="after")
    def _installation_policy(self) -> Settings:
        """The policy `altlas init` wrote is every command's without a variable to set."""
        if self.policy_file is None and (self.data_dir / INSTALLATION_POLICY).is_file():
            self.policy_file = self.data_dir / INSTALLATION_POLICY
        return self

    @property
    def models_directory(self) -> Path:
        """Where people's model files are read from (ALTLAS_MODELS_DIR, else in the data
        directory)."""
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        parse_database_url(value.get_secret_value())
        return value

    @field_validator("views_database_url")
    @classmethod
    def _check_views_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        checked_views_url(value.get_secret_value())
        return value

    @field_validator("cipher_key")
    @classmethod
    def _check_cipher_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from eventsourcing.cryptography import AESCipher  # only when a key is set

        key = value.get_secret_value().strip()
        try:
            AESCipher.check_key_size(len(b64decode(key, validate=True)))
        except ValueError:  # not base64 (binascii.Error), or not an AES key's size
            raise ValueError("is not a base64 AES key of 16, 24 or 32 bytes; make one with "
                             "`altlas key new`") from None
        return SecretStr(key)

    @field_validator("ui_signing_key")
    @classmethod
    def _check_ui_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("is shorter than 32 characters: make one with "
                             "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str | None) -> str | None:
        if not value:
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _known_work(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(RATE_LIMITS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a work with a rate; use "
                             f"{', '.join(RATE_LIMITS)}")
        if any(n < 0 for n in value.values()):
            raise ValueError("a rate is a count a minute, 0 or more")
        return {**RATE_LIMITS, **value}

    @field_validator("witness_file")
    @classmethod
    def _outside_data_dir(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or not str(value):
            return None
        if info.data.get("kafka_bootstrap_servers"):
            raise ValueError("is for the embedded feed; with Kafka the events topic is the "
                             "witness: unset it")
        path = value.expanduser().resolve()
        data_dir = info.data.get("data_dir")
        if data_dir is not None and path.is_relative_to(Path(data_dir).expanduser().resolve()):
            raise ValueError(f"{path} is inside ALTLAS_DATA_DIR: whoever can change the store "
                             "could change it too; choose a directory the store's owner "
                             "cannot write")
        if not path.parent.is_dir():
            raise ValueError(f"{path.parent} is not a directory; create it first")
        return path

    @field_validator("witness_url")
    @classmethod
    def _one_witness(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if info.data.get("kafka_bootstrap_servers"):
            raise ValueError("is for the embedded feed; with Kafka the events topic is the "
                             "witness: unset it")
        if info.data.get("witness_file") is not None:
            raise ValueError("set one witness: ALTLAS_WITNESS_FILE or ALTLAS_WITNESS_URL")
        return value

    @field_validator("ssh_known_hosts", "ssh_key")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @field_validator("secrets_file")
    @classmethod
    def _private_secrets(cls, value: Path | None) -> Path | None:
        if value is not None:
            from altlas.secret_store import read_secrets_file

            read_secrets_file(value)  # ValueError: others may read it, or a bad line
        return value

    @field_validator("prometheus_url", "litellm_api_base", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def level_for(self, server: bool) -> str:
        """The log level of a process: the configured one, else by what the process is."""
        return level_for(self.log_level, server)

    def persistence_env(self) -> dict[str, str]:
        """The eventsourcing library's own settings for the chosen event store."""
        cache = {"AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache),
                 "AGGREGATE_CACHE_FASTFORWARD": "n", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}
        if not self.aggregate_cache:
            cache = {}
        cipher: dict[str, str] = {}
        if self.cipher_key is not None:  # the library's AES-GCM, on the cryptography package
            cipher = {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                      "CIPHER_KEY": self.cipher_key.get_secret_value()}
        return {**store_env(self.data_dir, _secret(self.database_url)), **cache, **cipher}

    def events_sql_url(self) -> str:
        """The event store's database, for the tables kept beside the events (relay state)."""
        return events_url(self.data_dir, _secret(self.database_url))

    def views_sql_url(self) -> str:
        return views_url(self.data_dir, _secret(self.database_url),
                         _secret(self.views_database_url))

    @property
    def events_topic(self) -> str:
        return f"{self.kafka_topic_prefix}.events"

    @property
    def backend(self) -> str:
        return "sqlite" if self.database_url is None else "postgres"


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def settings_env(settings: Settings) -> dict[str, str]:
    """The ALTLAS_ variables that make these settings again in another process."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict | list | tuple | set):
            value = json.dumps(value)  # read back as JSON, as the variable is documented
        env[f"ALTLAS_{name.upper()}"] = str(value)
    return env


def load_settings() -> Settings:
    """Read and check the environment; one line per bad variable."""
    try:
        return Settings()
    except ValidationError as e:
        lines = []
        for err in e.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"ALTLAS_{field.upper()}: {message}")
        raise SettingsError("; ".join(lines)) from None
