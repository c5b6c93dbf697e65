"""The rules around the catalog: the shop's time zone, session ids, user-defined features, atomic
builds, and the as-of date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segmark.errors import ConfigError, InputError, NotReadyError, StoreError
from segmark.features.compose import utc_offsets
from segmark.pipeline.features import build_features, load_features, parse_as_of
from segmark.workspace import Workspace

SHANGHAI = {"timezone": "Asia/Shanghai"}


def test_hours_weekdays_and_days_use_the_shops_zone(ws: Workspace, add_events, with_settings) -> None:
    # UTC Friday 2024-03-01 20:00 is Saturday 04:00 in Shanghai (UTC+8, no daylight saving);
    # UTC Saturday 2024-03-02 17:30 is Sunday 01:30; UTC Monday 2024-03-04 02:00 is Monday 10:00.
    add_events(ws, [
        ("u1", "view", "2024-03-01 20:00", "i1", "c"),
        ("u1", "view", "2024-03-02 17:30", "i1", "c"),
        ("u1", "view", "2024-03-04 02:00", "i1", "c"),
        ("u1", "view", "2024-03-04 02:10", "i1", "c"),
    ])
    utc = load_features(ws.store, build_features(ws, as_of="2024-03-05").run_id)[1].loc["u1"]
    sh_ws = with_settings(ws, time=SHANGHAI)
    sh = load_features(ws.store, build_features(sh_ws, as_of="2024-03-05").run_id)[1].loc["u1"]

    # UTC: hours 20, 17, 2, 2 -> 2; days Fri, Sat, Mon -> one weekend event; 3 distinct days
    assert (utc["preferred_hour"], utc["preferred_daypart"]) == (2.0, "night")
    assert utc["weekend_share"] == pytest.approx(1 / 4)
    assert utc["active_days_7d"] == 3
    # Shanghai: hours 4, 1, 10, 10 -> 10 (morning); Sat, Sun, Mon -> two weekend events
    assert (sh["preferred_hour"], sh["preferred_daypart"]) == (10.0, "morning")
    assert sh["weekend_share"] == pytest.approx(2 / 4)
    assert sh["active_days_7d"] == 3
    # as_of 2024-03-05 means local midnight: 2024-03-04 16:00 UTC in Shanghai, so the last
    # event (02:10 UTC) is 13h50m before it, against 21h50m before UTC midnight
    assert sh["recency_visit_days"] == pytest.approx((13 + 50 / 60) / 24)
    assert utc["recency_visit_days"] == pytest.approx((21 + 50 / 60) / 24)


def test_preferred_weekday_and_band_use_the_shops_zone(ws: Workspace, add_events, with_settings) -> None:
    # 2024-03-03 is a Sunday. Three evening events on Sunday in UTC are early Monday in Shanghai
    # (UTC+8): 17:00 -> Mon 01:00, 18:30 -> Mon 02:30, 20:00 -> Mon 04:00; two more on Wednesday
    # 2024-03-06 (10:00 and 11:00 UTC: 18:00 and 19:00 in Shanghai, still Wednesday)
    add_events(ws, [
        ("u1", "view", "2024-03-03 17:00"), ("u1", "view", "2024-03-03 18:30"), ("u1", "view", "2024-03-03 20:00"),
        ("u1", "view", "2024-03-06 10:00"), ("u1", "view", "2024-03-06 11:00"),
    ])
    utc = load_features(ws.store, build_features(ws, as_of="2024-03-12").run_id)[1].loc["u1"]
    sh = load_features(ws.store, build_features(with_settings(ws, time=SHANGHAI), as_of="2024-03-12").run_id)[1]
    # UTC: Sunday 3, Wednesday 2 -> 7; weekend 3 per 2 days against 2 per 5 days -> weekend
    assert (utc["preferred_weekday"], utc["preferred_weekday_band"]) == (7.0, "weekend")
    # Shanghai: Monday 3, Wednesday 2 -> 1; nothing at the weekend -> weekday
    assert (sh.at["u1", "preferred_weekday"], sh.at["u1", "preferred_weekday_band"]) == (1.0, "weekday")
    zh = with_settings(ws, lang="zh")
    assert load_features(ws.store, build_features(zh, as_of="2024-03-12").run_id)[1].at[
        "u1", "preferred_weekday_band"] == "周末"
    zh_sh = with_settings(ws, lang="zh", time=SHANGHAI)
    assert load_features(ws.store, build_features(zh_sh, as_of="2024-03-12").run_id)[1].at[
        "u1", "preferred_weekday_band"] == "工作日"


def test_weekday_ties_and_the_band_per_day(ws: Workspace, add_events) -> None:
    # the week of Monday 2024-03-04 to Sunday 2024-03-10, all at 10:00 UTC
    day = {"mon": "2024-03-04", "tue": "2024-03-05", "wed": "2024-03-06", "thu": "2024-03-07",
           "fri": "2024-03-08", "sat": "2024-03-09", "sun": "2024-03-10"}

    def on(user: str, *days: str) -> list[tuple[str, str, str]]:
        return [(user, "view", f"{day[d]} 10:00") for d in days]

    workweek = ("mon", "tue", "wed", "thu", "fri")
    add_events(ws, [
        *on("tie", "tue", "fri"),                    # Tuesday 1, Friday 1 -> the earlier, Tuesday
        *on("wrap", "mon", "sun"),                   # Monday 1, Sunday 1 -> Monday, first in the week
        *on("even", *workweek, "sat", "sun"),        # every day once: 2 per 2 days = 5 per 5 days
        *on("weekend", *workweek, "sat", "sat", "sun"),  # 3 per 2 days beat 5 per 5 days
    ])
    df = load_features(ws.store, build_features(ws, as_of="2024-03-12").run_id)[1]
    got = {u: (df.at[u, "preferred_weekday"], df.at[u, "preferred_weekday_band"]) for u in df.index}
    assert got == {
        "tie": (2.0, "weekday"),
        "wrap": (1.0, "weekend"),     # one event each: 1 per weekend day against 1 / 5 per weekday
        "even": (1.0, "weekday"),     # a tie in the band goes to weekday
        "weekend": (6.0, "weekend"),  # Saturday 2; weekend, though weekdays hold 5 of the 8 events
    }


def test_daylight_saving_moves_the_local_hour(ws: Workspace, add_events, with_settings) -> None:
    # London: GMT (UTC+0) in winter, BST (UTC+1) from 2024-03-31 01:00 UTC to 2024-10-27 01:00 UTC
    add_events(ws, [
        ("u1", "view", "2024-01-10 12:00"),                              # 12:00 local
        ("u2", "view", "2024-07-10 12:00"), ("u2", "view", "2024-07-11 12:00"),  # 13:00 local
        ("u3", "view", "2024-03-31 00:59"), ("u3", "view", "2024-03-31 01:00"),  # 00:59, then 02:00
        ("u3", "view", "2024-03-31 01:30"),                              # 02:30
    ])
    london = with_settings(ws, time={"timezone": "Europe/London"})
    df = load_features(ws.store, build_features(london, as_of="2024-12-01").run_id)[1]
    assert df.at["u1", "preferred_hour"] == 12.0
    assert df.at["u2", "preferred_hour"] == 13.0
    assert df.at["u3", "preferred_hour"] == 2.0  # 02:00 and 02:30 local against 00:59


def test_zone_offsets_are_found_to_the_second() -> None:
    changes = utc_offsets("Europe/London", datetime(2010, 12, 1), datetime(2011, 12, 10))
    # BST began 2011-03-27 01:00 UTC and ended 2011-10-30 01:00 UTC
    assert changes == [(int(datetime(2010, 12, 1, tzinfo=UTC).timestamp()), 0),
                       (int(datetime(2011, 3, 27, 1, tzinfo=UTC).timestamp()), 3600),
                       (int(datetime(2011, 10, 30, 1, tzinfo=UTC).timestamp()), 0)]
    assert utc_offsets("Asia/Shanghai", datetime(2017, 11, 25), datetime(2017, 12, 4))[0][1] == 8 * 3600


def test_a_local_day_boundary_splits_active_days(ws: Workspace, add_events, with_settings) -> None:
    # 15:30 and 16:30 UTC fall on one UTC day but on two Shanghai days (23:30 and 00:30)
    add_events(ws, [("u1", "view", "2024-03-01 15:30"), ("u1", "view", "2024-03-01 16:30")])
    utc = load_features(ws.store, build_features(ws, as_of="2024-03-05").run_id)[1].loc["u1"]
    sh = load_features(ws.store, build_features(with_settings(ws, time=SHANGHAI),
                                                as_of="2024-03-05").run_id)[1].loc["u1"]
    assert utc["active_days_30d"] == 1
    assert sh["active_days_30d"] == 2
    # one hour apart: two sessions under the 30-minute rule, one under a 90-minute gap
    assert utc["sessions_30d"] == 2
    wide = with_settings(ws, features={"session_gap_minutes": 90})
    assert load_features(ws.store, build_features(wide, as_of="2024-03-05").run_id)[1].at["u1", "sessions_30d"] == 1


def test_default_as_of_follows_the_local_calendar(ws: Workspace, add_events, with_settings) -> None:
    # the last event, 2024-03-05 20:00 UTC, is 2024-03-06 04:00 in Shanghai: the next local day
    # starts 2024-03-07 00:00 local = 2024-03-06 16:00 UTC
    add_events(ws, [("u1", "view", "2024-03-05 20:00")])
    run = build_features(with_settings(ws, time=SHANGHAI))
    assert run.as_of == datetime(2024, 3, 6, 16, 0)
    assert run.as_of_local == datetime(2024, 3, 7, 0, 0)
    assert run.timezone == "Asia/Shanghai"
    assert build_features(ws).as_of == datetime(2024, 3, 6)


def test_as_of_parsing() -> None:
    assert parse_as_of("2024-03-01", "UTC") == datetime(2024, 3, 1)
    assert parse_as_of("2024-03-01", "Asia/Shanghai") == datetime(2024, 2, 29, 16)
    assert parse_as_of("2024-03-01T12:30", "Asia/Shanghai") == datetime(2024, 3, 1, 4, 30)
    # London is on summer time (UTC+1) on 2024-07-01
    assert parse_as_of("2024-07-01", "Europe/London") == datetime(2024, 6, 30, 23)
    with pytest.raises(InputError, match="not a date"):
        parse_as_of("yesterday", "UTC")


def test_no_events_means_not_ready(ws: Workspace) -> None:
    with pytest.raises(NotReadyError, match="ingest events"):
        build_features(ws)


def test_session_ids_define_sessions_when_present(ws: Workspace, add_events) -> None:
    add_events(ws, [
        # u1: two visits with ids, 5 minutes apart: two sessions, though under the gap
        ("u1", "view", "2024-03-01 10:00", None, None, None, None, None, None, "s1"),
        ("u1", "view", "2024-03-01 10:05", None, None, None, None, None, None, "s2"),
        # a visit with one id spanning 3 hours: one session, though over the gap
        ("u1", "view", "2024-03-01 12:00", None, None, None, None, None, None, "s3"),
        ("u1", "view", "2024-03-01 15:00", None, None, None, None, None, None, "s3"),
        # then events without ids: 10 minutes apart, then 40 minutes: two more sessions
        ("u1", "view", "2024-03-01 16:00"),
        ("u1", "view", "2024-03-01 16:10"),
        ("u1", "view", "2024-03-01 16:50"),
    ])
    df = load_features(ws.store, build_features(ws, as_of="2024-03-02").run_id)[1]
    assert df.at["u1", "sessions_7d"] == 5  # s1, s2, s3, {16:00, 16:10}, {16:50}
    assert df.at["u1", "active_days_7d"] == 1


def test_events_at_the_same_instant_count_the_same_sessions_on_every_build(ws: Workspace, add_events) -> None:
    # Session s1 at 10:00 and 10:05, session s2 at 10:05. Ordered by time and then session id the
    # visit reads s1, s1, s2: two sessions. Ordered by time alone the tie could come as s1, s2, s1
    # (three sessions), and which one came first changed from build to build. Half the users list
    # the tie one way round in the file, half the other.
    rows = []
    for i in range(60):
        tie = [("s2", "i2"), ("s1", "i1")] if i % 2 else [("s1", "i1"), ("s2", "i2")]
        rows.append((f"u{i}", "view", "2024-03-01 10:00", "i0", None, None, None, None, None, "s1"))
        rows += [(f"u{i}", "view", "2024-03-01 10:05", item, None, None, None, None, None, sid) for sid, item in tie]
    add_events(ws, rows)
    for _ in range(3):
        df = load_features(ws.store, build_features(ws, as_of="2024-03-02").run_id)[1]
        assert (df["sessions_7d"] == 2).all(), df["sessions_7d"].value_counts().to_dict()


def test_windows_can_be_chosen_per_build(ws: Workspace, add_events) -> None:
    add_events(ws, [("u1", "view", "2024-02-20 10:00"), ("u1", "view", "2024-02-28 10:00")])
    run, df = load_features(ws.store, build_features(ws, as_of="2024-03-01", windows=[14, 3]).run_id)
    assert run.windows == (3, 14)
    assert (df.at["u1", "views_3d"], df.at["u1", "views_14d"]) == (1, 2)
    assert "views_7d" not in df.columns
    with pytest.raises(ConfigError, match="windows"):
        build_features(ws, as_of="2024-03-01", windows=[0])


def _custom(ws: Workspace, with_settings, **features: dict[str, str]) -> Workspace:
    return with_settings(ws, features={"custom": features})


def test_custom_features_are_computed_and_documented(ws: Workspace, add_events, with_settings) -> None:
    add_events(ws, [
        ("u1", "purchase", "2024-02-01 10:00", "i1", "c", 150, 1, 150, "o1"),
        ("u1", "purchase", "2024-02-01 10:00", "i2", "c", 20, 1, 20, "o1"),
        ("u1", "purchase", "2024-02-02 10:00", "i3", "c", 120, 1, 120, "o2"),
        ("u1", "view", "2024-02-03 10:00", "i3", "c"),
        ("u2", "view", "2024-02-03 10:00", "i3", "c"),
    ])
    custom = _custom(ws, with_settings, big_line_share={
        "sql": "avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) FILTER (WHERE event_type = 'purchase')",
        "description": "Share of purchase lines above 100", "unit": "ratio", "label_zh": "大额订单行占比",
    }, 浏览数={"sql": "count(*) FILTER (WHERE is_view)"})
    run, df = load_features(ws.store, build_features(custom, as_of="2024-03-01").run_id)
    assert df.at["u1", "big_line_share"] == pytest.approx(2 / 3)  # 150 and 120 of 150, 20, 120
    assert df["big_line_share"].isna()["u2"]                      # no purchase lines
    assert (df.at["u1", "浏览数"], df.at["u2", "浏览数"]) == (1.0, 1.0)
    col = run.column("big_line_share")
    assert (col.family, col.unit, col.label_zh) == ("custom", "ratio", "大额订单行占比")
    assert list(df.columns[-2:]) == ["big_line_share", "浏览数"]


@pytest.mark.parametrize(("sql", "message"), [
    ("sum(amount", "not a valid SQL expression"),
    ("count(*); DROP TABLE events", "exactly one SQL expression"),
    ("(SELECT count(*) FROM users)", "aggregate expression"),
    ("sum(no_such_column)", "no_such_column"),
    ("amount * 2", "must aggregate"),
])
def test_a_bad_custom_feature_is_a_config_error_naming_it(ws: Workspace, add_events, with_settings,
                                                         sql: str, message: str) -> None:
    add_events(ws, [("u1", "view", "2024-02-03 10:00")])
    bad = _custom(ws, with_settings, my_feature={"sql": sql})
    with pytest.raises(ConfigError, match=rf"features\.custom\.my_feature: .*{message}"):
        build_features(bad, as_of="2024-03-01")
    assert ws.store.scalar("SELECT count(*) FROM feature_runs") == 0


@pytest.mark.parametrize("sql", [
    "count(*) FILTER (WHERE ts > now() - INTERVAL 30 DAY)",
    "count(*) FILTER (WHERE ts > NOW() - INTERVAL 30 DAY)",
    "count(*) FILTER (WHERE CAST(ts AS DATE) = current_date)",
    "count(*) FILTER (WHERE CAST(ts AS DATE) = current_date())",
    "count(*) FILTER (WHERE CAST(ts AS DATE) >= today() - 7)",
    "max(current_timestamp - ts)",
    "max(CURRENT_TIMESTAMP - ts)",
    "max(localtimestamp - ts)",
    "avg(epoch(get_current_timestamp()) - t)",
    "max(transaction_timestamp() - ts)",
    "max(current_localtimestamp() - ts)",
    "max(epoch(age(ts)))",                                     # one argument: the time since ts, until now
    "avg(random())",
    "count(*) FILTER (WHERE rand() < 0.5)",
    "count(DISTINCT uuid())",
    "count(DISTINCT gen_random_uuid())",
])
def test_a_custom_feature_may_not_read_the_clock_or_randomness(ws: Workspace, add_events, with_settings,
                                                              sql: str) -> None:
    add_events(ws, [("u1", "view", "2024-02-03 10:00")])
    bad = _custom(ws, with_settings, recent_views={"sql": sql})
    with pytest.raises(ConfigError, match=r"^features\.custom\.recent_views: .*reads the clock or a random "
                                          r"source.*use as_of-relative columns instead"):
        build_features(bad, as_of="2024-03-01")
    assert ws.store.scalar("SELECT count(*) FROM feature_runs") == 0


def test_as_of_relative_custom_features_are_fine(ws: Workspace, add_events, with_settings) -> None:
    # 2024-02-03 10:00 is 26 days and 14 hours before as_of; 2024-02-28 12:00 is 1.5 days before
    add_events(ws, [("u1", "view", "2024-02-03 10:00"), ("u1", "view", "2024-02-28 12:00")])
    fine = _custom(ws, with_settings, views_7d_custom={"sql": "count(*) FILTER (WHERE age_d <= 7)"},
                   days_from_first={"sql": "max(epoch(age(TIMESTAMP '2024-03-01', ts))) / 86400"})
    df = load_features(ws.store, build_features(fine, as_of="2024-03-01").run_id)[1]
    assert df.at["u1", "views_7d_custom"] == 1.0
    assert df.at["u1", "days_from_first"] == pytest.approx(26 + 14 / 24)


def test_a_custom_feature_may_not_reuse_a_built_in_name(ws: Workspace, add_events, with_settings) -> None:
    add_events(ws, [("u1", "view", "2024-02-03 10:00")])
    with pytest.raises(ConfigError, match=r"features\.custom\.Monetary: the name is already a feature"):
        build_features(_custom(ws, with_settings, Monetary={"sql": "count(*)"}), as_of="2024-03-01")


def test_a_failed_build_leaves_the_store_as_it_was(ws: Workspace, add_events, with_settings) -> None:
    add_events(ws, [("u1", "view", "2024-02-03 10:00", "not-a-number")])
    # binds (item_id is a column) but fails while running: the cast of 'not-a-number'
    failing = _custom(ws, with_settings, item_total={"sql": "sum(CAST(item_id AS INTEGER))"})
    tables_before = set(ws.store.query_df("SHOW TABLES")["name"])
    with pytest.raises(StoreError, match="not-a-number"):
        build_features(failing, as_of="2024-03-01")
    assert set(ws.store.query_df("SHOW TABLES")["name"]) == tables_before
    assert ws.store.scalar("SELECT count(*) FROM feature_runs") == 0
    assert ws.store.query_rows("SELECT step, status FROM runs") == [("features", "failed")]
