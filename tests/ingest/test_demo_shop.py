"""The sample shop goes through the normal ingestion path, and exactly its planted faults are caught."""

from __future__ import annotations

from pathlib import Path

from segmark.demo import generate_shop, write_shop
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

# the generator's fault kinds and the quarantine reasons they must produce
EXPECTED_REASON = {
    "events.unparseable_timestamp": "unparseable_ts",
    "events.unknown_event_type": "unknown_event_type",
    "events.negative_price": "negative_price",
    "events.non_numeric_price": "non_numeric_price",
    "events.empty_user_id": "missing_user_id",
    "users.age_out_of_range": "invalid_age",
    "users.unparseable_signup_date": "unparseable_date",
    "users.empty_user_id": "missing_user_id",
}


def test_planted_faults_are_exactly_the_quarantine(ws: Workspace, tmp_path: Path) -> None:
    shop = generate_shop(n_users=2_000, seed=7)
    paths = write_shop(shop, tmp_path / "shop")
    users = ingest_file(ws, "users", paths["users"])
    items = ingest_file(ws, "items", paths["items"])
    events = ingest_file(ws, "events", paths["events"])

    for table, report in (("users", users), ("events", events)):
        planted = {EXPECTED_REASON[k]: n for k, n in shop.dirty.items() if k.startswith(table + ".")
                   and k in EXPECTED_REASON and n}
        assert report.by_reason == planted, table
    assert events.duplicates == shop.dirty["events.duplicate"]
    assert events.rows_read == len(shop.events)
    assert events.accepted == len(shop.events) - sum(
        n for k, n in shop.dirty.items() if k.startswith("events."))
    assert items.accepted == len(shop.items)
    # Chinese attributes arrive intact; gender is normalised, the province kept as an attribute
    genders = {g for (g,) in ws.store.query_rows("SELECT DISTINCT gender FROM users")}
    assert genders <= {"female", "male", None}
    cities = {c for (c,) in ws.store.query_rows("SELECT DISTINCT city FROM users")}
    assert cities - {None} == set(shop.users["city"].dropna())
    assert ws.store.scalar("SELECT count(*) FROM users WHERE attributes->>'province' IS NOT NULL") > 0
