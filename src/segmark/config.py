"""Workspace settings: ``segmark.toml``, validated, with every default documented here.

A workspace is a folder holding ``segmark.toml`` and one DuckDB file. Settings are read once
when the workspace is opened; an invalid file raises ``ConfigError`` naming the file and the key.
Every field has a default, so an empty ``segmark.toml`` is valid.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from segmark.errors import ConfigError

SETTINGS_FILE = "segmark.toml"
DATABASE_FILE = "segmark.duckdb"

Lang = Literal["en", "zh"]


def known_zone(name: str) -> str:
    """``name`` if it is an IANA time zone; a ValueError that says what to write otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from exc
    return name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeSettings(_Section):
    """How time is read and shown."""

    timezone: str = "UTC"
    """The shop's local zone (e.g. Asia/Shanghai): local date-time strings in inputs are read in
    it, and hour-of-day and weekday features are computed in it. Storage is always UTC."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return known_zone(v)


class StoreSettings(_Section):
    """The embedded database."""

    memory_limit: str = "4GB"
    """DuckDB's memory limit; work beyond it spills to the workspace's tmp/ folder."""
    threads: int = Field(default=0, ge=0)
    """Worker threads; 0 lets DuckDB use every core."""
    lock_wait_s: float = Field(default=5.0, ge=0, le=3600)
    """How long a command waits for another process that holds the workspace (a ``status``
    reading it, say) before it says the workspace is in use."""


class IngestSettings(_Section):
    """Ingestion limits and validation ranges."""

    chunk_mb: int = Field(default=16, ge=1, le=1024)
    """Bytes of input parsed per chunk: bounds memory for files of any size."""
    min_ts: str = "1990-01-01"
    """Events before this date are quarantined as out of range (so are signup dates)."""

    @field_validator("min_ts")
    @classmethod
    def _a_date(cls, v: str) -> str:
        from datetime import datetime

        try:
            when = datetime.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a date such as 1990-01-01") from None
        if when.tzinfo is not None or not 1900 <= when.year <= 2200:
            raise ValueError(f"{v!r}: give a date (no offset) between 1900 and 2200")
        return v
    max_future_days: int = Field(default=1, ge=0, le=36_500)
    """Events later than ingestion time plus this many days are quarantined as out of range."""


class AgeBand(_Section):
    """One age band: ages from ``min`` (inclusive) up to the next band's ``min``."""

    min: int = Field(ge=0, le=150)
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


DEFAULT_AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand(min=0, en="under 18", zh="未成年"),
    AgeBand(min=18, en="young adult", zh="青年"),
    AgeBand(min=35, en="middle-aged", zh="中年"),
    AgeBand(min=60, en="senior", zh="老年"),
)
"""18-34 young, 35-59 middle-aged, 60+ senior: the usual bands of Chinese market research."""

_FEATURE_NAME = re.compile(r"^[^\W\d_]\w*$")


class CustomFeature(_Section):
    """A user-defined feature: an aggregate SQL expression over the user's events before as_of."""

    sql: str = Field(min_length=1)
    """e.g. ``avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) FILTER (WHERE event_type = 'purchase')``."""
    description: str = ""
    unit: str = ""
    label_zh: str = ""


class FeatureSettings(_Section):
    """The user feature table (``segmark features build``)."""

    windows: list[int] = Field(default_factory=lambda: [7, 30, 90, 365])
    """Look-back windows in days for activity counts."""
    session_gap_minutes: int = Field(default=30, ge=1)
    """Inactivity gap that starts a new session when events carry no session_id."""
    top_categories: int = Field(default=10, ge=0, le=100)
    """How many of the shop's most active categories get ``cat_share__<category>`` (interest) and
    ``spend_share__<category>`` (spend) columns."""
    age_bands: list[AgeBand] = Field(default_factory=lambda: list(DEFAULT_AGE_BANDS))
    """Age bands with English and Chinese labels; each starts at ``min`` years."""
    custom: dict[str, CustomFeature] = Field(default_factory=dict)
    """User-defined features: ``name = {sql = "...", description = "...", unit = "..."}``."""

    @field_validator("windows")
    @classmethod
    def _positive_windows(cls, v: list[int]) -> list[int]:
        if not v or any(w <= 0 for w in v):
            raise ValueError("windows must be a non-empty list of positive day counts")
        return sorted(set(v))

    @field_validator("age_bands")
    @classmethod
    def _ascending_bands(cls, v: list[AgeBand]) -> list[AgeBand]:
        mins = [b.min for b in v]
        if not v or mins != sorted(set(mins)):
            raise ValueError("age_bands must be non-empty with strictly increasing min ages")
        return v

    @field_validator("custom")
    @classmethod
    def _feature_names(cls, v: dict[str, CustomFeature]) -> dict[str, CustomFeature]:
        for name in v:
            if not _FEATURE_NAME.match(name):
                raise ValueError(
                    f"custom feature name {name!r} must start with a letter and hold only letters, "
                    "digits and underscores"
                )
        return v


class SegmentSettings(_Section):
    """Segmentation (``segmark segment rfm|cluster``); see docs/segmentation.md."""

    rfm_scale: int = Field(default=5)
    """Quantile score scale for R, F and M: 5 or 3."""
    rfm_rules: list[dict[str, Any]] | None = None
    """Replacement RFM scheme, first match wins: ``[[segment.rfm_rules]]`` tables with ``name``,
    ``name_zh`` and inclusive score ranges ``r``, ``f``, ``m`` (each ``[low, high]``, omitted = any)."""
    method: str = "auto"
    """Clustering method: auto, kmeans, minibatch-kmeans, gmm, gmm-tied, agglomerative, hdbscan,
    dbscan or kprototypes."""
    k: int | Literal["auto"] = "auto"
    """Number of segments, or auto (chosen by model selection)."""
    features: list[str] | None = None
    """Feature columns to cluster on; None = the default behavioural set (docs/segmentation.md)."""
    auto_methods: list[str] = Field(
        default_factory=lambda: ["kmeans", "gmm", "gmm-tied", "agglomerative", "hdbscan"])
    """Methods searched by automatic selection (k-prototypes joins when features are categorical)."""
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=10, ge=2, le=30)
    """Range of k searched when k is auto."""
    min_segment_share: float = Field(default=0.02, gt=0, lt=0.5)
    """Smallest share of users a cluster may hold for a candidate to be accepted."""
    min_stability: float = Field(default=0.6, ge=0, le=1)
    """Smallest resampling stability (mean adjusted Rand index) a winner may have."""
    min_silhouette_gain: float = Field(default=0.05, ge=0, lt=1)
    """Silhouette a segmentation must gain over structureless data; below it, no segments."""
    finer_ratio: float = Field(default=0.8, gt=0, le=1)
    """A finer segmentation at a peak of its gain curve wins when its gain is at least this share
    of the best gain (hierarchical data: buyers against browsers, then kinds of each)."""
    sample_size: int = Field(default=5000, ge=200)
    """Users the selection (and the sample-fitted methods) work on."""
    pca: float | None = Field(default=None, gt=0)
    """Optional PCA after preprocessing: a number of components (>= 1) or a variance share (< 1)."""
    rules_depth: int = Field(default=5, ge=1, le=8)
    """Depth of the surrogate decision tree that states segments as rules."""
    random_state: int = 0
    """Seed for every randomised step, so runs repeat exactly."""
    names: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Overrides of segment names: ``"<kind>:<key>"`` (e.g. ``"cluster:cart_abandoners"``,
    ``"rfm:champions"``) or ``"<segmentation id>:<segment id>"`` = ``{en = "...", zh = "..."}``."""

    @field_validator("rfm_scale")
    @classmethod
    def _scale(cls, v: int) -> int:
        if v not in (3, 5):
            raise ValueError("rfm_scale must be 3 or 5")
        return v

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        from segmark.core.segment.methods import METHODS

        if v != "auto" and v not in METHODS:
            raise ValueError(f"unknown method {v!r}; choose auto or one of {', '.join(METHODS)}")
        return v

    @field_validator("auto_methods")
    @classmethod
    def _auto_methods(cls, v: list[str]) -> list[str]:
        from segmark.core.segment.methods import METHODS

        unknown = [m for m in v if m not in METHODS]
        if unknown or not v:
            raise ValueError(f"auto_methods must name methods among {', '.join(METHODS)}")
        return v

    @field_validator("k")
    @classmethod
    def _k(cls, v: int | str) -> int | str:
        from segmark.core.segment.model import check_n_clusters

        return check_n_clusters(v)

    @model_validator(mode="after")
    def _consistent(self) -> SegmentSettings:
        if self.k_min > self.k_max:
            raise ValueError("k_min must not exceed k_max")
        if self.rfm_rules is not None:
            from segmark.core.segment.rfm import parse_rfm_rules

            parse_rfm_rules(self.rfm_rules, self.rfm_scale)
        return self


class RecommendSettings(_Section):
    """Recommendations (``segmark recommend ...``); see docs/recommendations.md."""

    method: str = "auto"
    """auto (chosen by evaluation on the last holdout window), popularity, repeat, item-knn,
    item-knn-bm25, user-knn, als or bpr."""
    repurchase: Literal["auto", "allow", "exclude"] = "auto"
    """May bought items be recommended again: auto decides per category from its repeat rate."""
    weights: dict[str, float] = Field(default_factory=lambda: {"view": 1.0, "fav": 2.0, "cart": 3.0,
                                                               "purchase": 5.0})
    """Weight of each event type in the interaction matrix; a refund takes back a purchase's weight."""
    half_life_days: float | None = Field(default=None, gt=0)
    """Optional time decay: an event this many days old counts half. None: no decay."""
    repeat_half_life_days: float = Field(default=90.0, gt=0)
    """Half-life of a purchase in the repeat signal (the user's own frequency and recency)."""
    min_repeat_rate: float = Field(default=0.02, ge=0, le=1)
    """Repeat rate from which a category's bought items may be recommended again (repurchase auto)."""
    list_length: int = Field(default=20, ge=1, le=500)
    """Items kept per user by a build (the most `recommend user|export --k` can show)."""
    holdout_days: int | None = Field(default=None, ge=1)
    """Days held out for evaluation and for auto's choice; None: a tenth of the data's span (1-28)."""
    cold_shrink: float = Field(default=3.0, ge=0)
    """A user with n items in their history gets CF weight n / (n + cold_shrink), popularity the rest."""
    methods: list[str] = Field(default_factory=lambda: ["item-knn", "item-knn-bm25", "user-knn", "als", "bpr"])
    """Collaborative-filtering methods that evaluate measures and auto chooses among (beside the baselines)."""
    item_neighbours: int = Field(default=20, ge=1)
    user_neighbours: int = Field(default=50, ge=1)
    factors: int = Field(default=64, ge=2)
    als_iterations: int = Field(default=15, ge=1)
    als_regularization: float = Field(default=0.05, ge=0)
    bpr_iterations: int = Field(default=100, ge=1)
    random_state: int = 0

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        from segmark.core.recommend.methods import METHODS

        if v != "auto" and v not in METHODS:
            raise ValueError(f"unknown method {v!r}; choose auto or one of {', '.join(METHODS)}")
        return v

    @field_validator("methods")
    @classmethod
    def _methods(cls, v: list[str]) -> list[str]:
        from segmark.core.recommend.methods import CF_METHODS

        unknown = [m for m in v if m not in CF_METHODS]
        if unknown:
            raise ValueError(f"methods must be among {', '.join(CF_METHODS)}")
        return v

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = {"view", "search", "cart", "remove_cart", "fav", "purchase"}
        bad = [k for k in v if k not in allowed]
        if bad or any(w < 0 for w in v.values()):
            raise ValueError(f"weights are non-negative numbers for event types among {', '.join(sorted(allowed))}")
        return v
class AudienceSettings(_Section):
    """Audiences and their exports (``segmark audience``)."""

    min_export_size: int = Field(default=100, ge=1)
    """An audience smaller than this is not exported: too few users to measure a campaign on, and
    close to naming individuals."""
    top_items: int = Field(default=5, ge=0, le=100)
    """Recommended items per user in an export, where a recommendation build exists (0: none)."""


class ReportSettings(_Section):
    """The HTML report."""

    lang: Lang = "en"
    """Language of the report and of generated names: en or zh."""


class Settings(_Section):
    """All settings of one workspace."""

    lang: Lang = "en"
    """Language of user-visible names (segments, tags, bands): en or zh."""
    time: TimeSettings = Field(default_factory=TimeSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    segment: SegmentSettings = Field(default_factory=SegmentSettings)
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    audience: AudienceSettings = Field(default_factory=AudienceSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


def validation_problems(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """A pydantic error as one line: ``key.path: message; other.key: message``. A key that ``model``
    does not have (a misspelt section such as ``[event_type]``) gets the nearest valid name, or the
    list of valid names, instead of pydantic's bare "Extra inputs are not permitted"."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        text = err["msg"]
        if err["type"] == "extra_forbidden" and model is not None and err["loc"]:
            valid = _keys_at(model, err["loc"][:-1])
            if valid:
                close = difflib.get_close_matches(str(err["loc"][-1]), valid, n=1, cutoff=0.6)
                text = (f"unknown key, did you mean {close[0]!r}?" if close else
                        f"unknown key (valid here: {', '.join(valid)})")
        parts.append(f"{where}: {text}")
    return "; ".join(parts)


def _keys_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The keys a model accepts at ``path`` (nested models followed through their fields, dict
    and list entries skipped); empty when the path leads elsewhere."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part)) or next(
            (f for f in current.model_fields.values() if f.alias == part), None)
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> Any:
    """The model inside an annotation (``Model``, ``Model | None``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def parse_settings(data: dict[str, Any], source: str = SETTINGS_FILE) -> Settings:
    """Validate a settings mapping; errors name ``source`` and the offending key."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {validation_problems(exc, Settings)}") from None


def read_toml_text(path: Path, what: str) -> str:
    """A TOML file's text; a file that is not UTF-8 text is a ConfigError naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path}: not a text file (byte {exc.start} is not UTF-8); "
                          "a TOML file is UTF-8 text") from None


def load_settings(path: Path) -> Settings:
    """Read and validate ``segmark.toml``; a missing file means all defaults."""
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(read_toml_text(path, "settings"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_settings(data, str(path))


DEFAULT_SETTINGS_TOML = """\
# segmark workspace settings. Every key is optional; the values shown are the defaults.
# See docs/configuration.md for the meaning of each.

lang = "en"                  # names of segments, tags and bands: "en" or "zh"

[time]
timezone = "UTC"             # the shop's local zone, e.g. "Asia/Shanghai"; storage is UTC

[store]
memory_limit = "4GB"         # DuckDB memory limit; larger work spills to tmp/
threads = 0                  # 0 = all cores
lock_wait_s = 5              # seconds to wait for another process that holds the workspace

[ingest]
chunk_mb = 16                # input parsed per chunk
min_ts = "1990-01-01"        # earlier events are quarantined
max_future_days = 1          # events later than now + this are quarantined

[features]
windows = [7, 30, 90, 365]   # activity windows, days
session_gap_minutes = 30     # gap that starts a new session when there is no session_id
top_categories = 10          # categories that get cat_share__ and spend_share__<category> columns
age_bands = [                # each band starts at min years; labels in English and Chinese
  { min = 0, en = "under 18", zh = "未成年" },
  { min = 18, en = "young adult", zh = "青年" },
  { min = 35, en = "middle-aged", zh = "中年" },
  { min = 60, en = "senior", zh = "老年" },
]

# A user-defined feature: an aggregate over the user's events before as_of (see docs/features.md).
# [features.custom.big_basket_share]
# sql = "avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) FILTER (WHERE event_type = 'purchase')"
# description = "Share of purchase lines above 100"
# unit = "ratio"

[segment]
rfm_scale = 5                # 5 or 3
method = "auto"              # auto, kmeans, minibatch-kmeans, gmm, gmm-tied, agglomerative, hdbscan, dbscan,
                             # kprototypes
k = "auto"                   # or a number of segments
# features = ["recency_visit_days", "tenure_days", "frequency", "monetary"]   # default: behavioural set
k_min = 2                    # range of k searched
k_max = 10
min_segment_share = 0.02     # clusters smaller than this share reject a candidate
min_stability = 0.6          # resampling stability (adjusted Rand index) a winner needs
min_silhouette_gain = 0.05   # silhouette gain over structureless data; below it: no segments
sample_size = 5000           # users that model selection works on
random_state = 0

# [segment.names]            # rename segments
# "cluster:cart_abandoners" = { en = "Cart lovers", zh = "爱加购用户" }
# "rfm:champions" = { en = "VIP", zh = "贵宾" }

# [[segment.rfm_rules]]      # replace the RFM scheme (first match wins; ranges are inclusive)
# name = "VIP"
# name_zh = "贵宾"
# r = [4, 5]
# f = [4, 5]
# m = [4, 5]

[recommend]
method = "auto"              # auto, popularity, repeat, item-knn, item-knn-bm25, user-knn, als, bpr
repurchase = "auto"          # may bought items come back: auto (per category), allow, exclude
weights = { view = 1.0, fav = 2.0, cart = 3.0, purchase = 5.0 }   # a refund takes back a purchase
# half_life_days = 30        # optional time decay of events
min_repeat_rate = 0.02       # repurchase auto: categories bought again at least this often
list_length = 20             # items kept per user
# holdout_days = 7           # evaluation window; default a tenth of the data's span (1-28 days)
[audience]
min_export_size = 100        # smaller audiences are not exported
top_items = 5                # recommended items per user in an export, where recommendations exist

[report]
lang = "en"                  # "en" or "zh"
"""
