"""Writes the malformed-input corpus (one small file per kind) and ``cases.json``, the outcome each
must have. The expected outcomes are written here by hand from how each file is made, never by
running segmark. Run from the repository root: ``python tests/ingest/corpus/make_corpus.py``."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
H = "user_id,event_type,ts,price\n"
G = "u0,view,2024-03-01 10:00:00,5\n"
CASES: list[dict] = []


def case(name: str, data: bytes | str, *, table: str = "events", mapping: str | None = None,
         read: int | None = None, accepted: int | None = None, reasons: dict[str, int] | None = None,
         duplicates: int = 0, error: str | None = None, match: str | None = None, suffix: str = ".csv") -> None:
    path = HERE / "files" / f"{name}{suffix}"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    entry: dict = {"name": name, "file": f"files/{path.name}", "table": table}
    if mapping is not None:
        entry["mapping"] = mapping
    if error:
        entry.update(error=error, match=match)
    else:
        entry.update(read=read, accepted=accepted, reasons=reasons or {}, duplicates=duplicates)
    CASES.append(entry)


def bad(name: str, row: str, reason: str, **kw: object) -> None:
    """A file of one good row and one bad one: the bad row is quarantined with ``reason``."""
    case(name, H + G + row + "\n", read=2, accepted=1, reasons={reason: 1}, **kw)  # type: ignore[arg-type]


def good(name: str, row: str, **kw: object) -> None:
    case(name, H + G + row + "\n", read=2, accepted=2, **kw)  # type: ignore[arg-type]


def parquet(name: str, columns: dict[str, pa.Array]) -> bytes:
    tmp = HERE / "files" / "_tmp.parquet"
    pq.write_table(pa.table(columns), tmp)
    data = tmp.read_bytes()
    tmp.unlink()
    return data


TS = pa.array([datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 11)], pa.timestamp("s"))

# -- ids
bad("id_empty", ",view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_tab", '"\t",view,2024-03-01 10:00:00,5', "missing_user_id")
bad("id_ideographic_space", "\u3000,view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_null_marker", "NULL,view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_backslash_n", "\\N,view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_control_character", "u\x07x,view,2024-03-01 10:00:00,5", "invalid_id")
bad("id_too_long", "u" * 700 + ",view,2024-03-01 10:00:00,5", "invalid_id")
bad("id_zero_width_space", "\u200b,view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_em_spaces", "\u2003\u2003,view,2024-03-01 10:00:00,5", "missing_user_id")
bad("id_c1_control", "u\u0085x,view,2024-03-01 10:00:00,5", "invalid_id")
case("id_trailing_zero_width_is_the_same_user", H + "u0,view,2024-03-01 10:00:00,5\nu0\u200b,view,2024-03-01 "
     "10:00:00,5\n", read=2, accepted=1, duplicates=1)
# -- event types
bad("event_type_empty", "u1,,2024-03-01 10:00:00,5", "missing_event_type")
bad("event_type_unknown", "u1,teleport,2024-03-01 10:00:00,5", "unknown_event_type")
good("event_type_chinese_synonym", "u1,购买,2024-03-01 10:00:00,5")
# -- timestamps
bad("ts_empty", "u1,view,,5", "missing_ts")
bad("ts_word", "u1,view,yesterday,5", "unparseable_ts")
bad("ts_month_13", "u1,view,2024-13-01 10:00:00,5", "unparseable_ts")
bad("ts_february_30", "u1,view,2024-02-30 10:00:00,5", "unparseable_ts")
bad("ts_hour_25", "u1,view,2024-03-01 25:00:00,5", "unparseable_ts")
bad("ts_zero_date", "u1,view,0000-00-00 00:00:00,5", "unparseable_ts")
bad("ts_before_min", "u1,view,1970-01-02 00:00:00,5", "ts_out_of_range")
bad("ts_far_future", "u1,view,2999-01-01 00:00:00,5", "ts_out_of_range")
good("ts_offset_hours", "u1,view,2024-03-01 10:00:00+08,5")
good("ts_offset_negative", "u1,view,2024-03-01 10:00:00-05,5")
good("ts_offset_compact", "u1,view,2024-03-01 10:00:00+0800,5")
good("ts_zulu", "u1,view,2024-03-01T10:00:00Z,5")
good("ts_zone_name", "u1,view,2024-03-01 10:00:00 Asia/Shanghai,5")
good("ts_abbreviation_pst", "u1,view,2024-03-01 10:00:00 PST,5")
bad("ts_abbreviation_cst", "u1,view,2024-03-01 10:00:00 CST,5", "ambiguous_ts_zone")
bad("ts_abbreviation_ist", "u1,view,2024-03-01 10:00:00 IST,5", "ambiguous_ts_zone")
bad("ts_unknown_zone", "u1,view,2024-03-01 10:00:00 Mars/Olympus,5", "unparseable_ts")
bad("ts_offset_out_of_range", "u1,view,2024-03-01 10:00:00+25,5", "unparseable_ts")
bad("ts_offset_past_plus_14", "u1,view,2024-03-01 10:00:00+14:30,5", "unparseable_ts")
good("ts_offset_plus_14", "u1,view,2024-03-01 10:00:00+14:00,5")
good("ts_unix_seconds", "u1,view,1709258400,5")
good("ts_unix_milliseconds", "u1,view,1709258400000,5")
good("ts_compact_digits", "u1,view,20240301100000,5")
good("ts_slashes", "u1,view,2024/03/01 10:00,5")
good("ts_chinese", "u1,view,2024年03月01日 10:00,5")
# -- numbers
bad("price_text", "u1,view,2024-03-01 10:00:00,abc", "non_numeric_price")
bad("price_negative", "u1,view,2024-03-01 10:00:00,-5", "negative_price")
bad("price_nan", "u1,view,2024-03-01 10:00:00,NaN", "non_finite_number")
bad("price_infinity", "u1,view,2024-03-01 10:00:00,inf", "non_finite_number")
bad("price_overflow", "u1,view,2024-03-01 10:00:00,1e400", "non_finite_number")
good("price_thousands", 'u1,view,2024-03-01 10:00:00,"1,234.50"')
good("price_currency", 'u1,view,2024-03-01 10:00:00,"¥1,299.00"')
bad("price_decimal_comma", 'u1,view,2024-03-01 10:00:00,"12,50"', "ambiguous_number")
bad("price_bad_groups", 'u1,view,2024-03-01 10:00:00,"1,2,3"', "ambiguous_number")
bad("price_european", 'u1,view,2024-03-01 10:00:00,"1.234,50"', "ambiguous_number")
bad("price_unit_suffix", "u1,view,2024-03-01 10:00:00,12元", "non_numeric_price")
case("quantity_negative", "user_id,event_type,ts,quantity\nu0,purchase,2024-03-01 10:00:00,1\n"
     "u1,purchase,2024-03-01 10:00:00,-2\n", read=2, accepted=1, reasons={"negative_quantity": 1})
case("quantity_text", "user_id,event_type,ts,quantity\nu0,purchase,2024-03-01 10:00:00,1\n"
     "u1,purchase,2024-03-01 10:00:00,two\n", read=2, accepted=1, reasons={"non_numeric_quantity": 1})
case("amount_negative", "user_id,event_type,ts,amount\nu0,purchase,2024-03-01 10:00:00,1\n"
     "u1,purchase,2024-03-01 10:00:00,-9\n", read=2, accepted=1, reasons={"negative_amount": 1})
case("mapping_decimal_comma", 'user_id;event_type;ts;price\nu0;view;2024-03-01 10:00:00;"1.299,00"\n',
     mapping='[read]\ndecimal = ","\n', read=1, accepted=1)
bad("num_double_sign", "u1,view,2024-03-01 10:00:00,+-5", "non_numeric_price")
bad("num_double_minus", "u1,view,2024-03-01 10:00:00,--5", "non_numeric_price")
bad("num_underscores", "u1,view,2024-03-01 10:00:00,1_000", "non_numeric_price")
# -- rows and quotes
bad("row_too_few_fields", "u1,view", "malformed_row")
bad("row_too_many_fields", "u1,view,2024-03-01 10:00:00,5,extra", "malformed_row")
case("unclosed_quote_last_column", H + 'u1,view,2024-03-01 10:00:00,"5\n'
     + "".join(f"v{i},view,2024-03-01 10:00:00,{i}\n" for i in range(100)),
     read=101, accepted=100, reasons={"unclosed_quote": 1})
case("unclosed_quote_middle_column", H + 'u1,"view,2024-03-01 10:00:00,5\n'
     + "".join(f"v{i},view,2024-03-01 10:00:00,{i}\n" for i in range(100)),
     read=101, accepted=100, reasons={"unclosed_quote": 1})
case("unclosed_quote_at_end", H + G + 'u1,view,2024-03-01 10:00:00,"5\nu2,view,2024-03-01 10:00:00,6\n',
     read=3, accepted=2, reasons={"unclosed_quote": 1})
case("quoted_line_break", "user_id,event_type,ts,category\nu0,view,2024-03-01 10:00:00,x\n"
     'u1,view,2024-03-01 10:00:00,"two\nlines"\n', read=2, accepted=2)
case("sloppy_quote_close", H + G + 'u1,view,2024-03-01 10:00:00,"5\nu2,view,"2024-03-01 10:00:00",6\n'
     "u3,view,2024-03-01 10:00:00,7\n", read=4, accepted=3, reasons={"unclosed_quote": 1})
case("blank_lines", H + "\n" + G + "\n\n" + "u1,view,2024-03-01 10:00:00,6\n", read=2, accepted=2)
case("crlf_line_endings", (H + G + "u1,view,2024-03-01 10:00:00,6\n").replace("\n", "\r\n"), read=2, accepted=2)
case("utf8_bom", "\ufeff" + H + G, read=1, accepted=1)
case("duplicate_rows", H + G + G, read=2, accepted=1, duplicates=1)
# -- encodings and what a file is
case("invalid_byte_ff", (H + G + "u1,view,2024-03-01 10:00:00,6\n").encode() + b"u2,view,2024-03-01 10:00:00,\xff\n",
     read=3, accepted=2, reasons={"invalid_encoding": 1})
case("cp1252_byte", ("user_id,event_type,ts,category\n" + "".join(
    f"u{i},view,2024-03-01 10:00:00,女装\n" for i in range(10))).encode() + b"u9,view,2024-03-01 11:00:00,caf\xe9\n",
     read=11, accepted=10, reasons={"invalid_encoding": 1})
case("gbk_file", "user_id,event_type,ts,category\nu1,view,2024-03-01 10:00:00,女装\n".encode("gbk"), read=1, accepted=1)
case("utf16_with_bom", (H + G).encode("utf-16"), read=1, accepted=1)
case("gzip", gzip.compress((H + G).encode(), mtime=0), read=1, accepted=1, suffix=".csv.gz")
case("zip_archive", b"PK\x03\x04" + b"\x00" * 60, error="InputError", match="a zip archive")
case("binary_nul_bytes", b"\x00\x01\x02binary" * 20, error="InputError", match="binary data")
case("header_only", H, read=0, accepted=0)
case("empty_file", b"", error="InputError", match="the file is empty")
case("missing_required_column", "user_id,event_type\nu1,view\n", error="MissingColumnsError",
     match=r"required column\(s\) missing: ts")
case("repeated_column_names", "user_id,user_id,event_type,ts\nu1,u1,view,2024-03-01 10:00:00\n",
     error="InputError", match="repeated column names")
case("columns_differing_by_case", "USER_ID,user_id,event_type,ts\nU1,u1,view,2024-03-01 10:00:00\n",
     read=1, accepted=1)
case("column_named_line", "_line,user_id,event_type,ts\n99,u1,view,2024-03-01 10:00:00\n", read=1, accepted=1)
case("empty_header_name", "user_id,,event_type,ts\nu1,x,view,2024-03-01 10:00:00\n", read=1, accepted=1)
case("semicolons", H.replace(",", ";") + G.replace(",", ";"), read=1, accepted=1)
case("tabs", H.replace(",", "\t") + G.replace(",", "\t"), read=1, accepted=1, suffix=".tsv")
case("pipes", H.replace(",", "|") + G.replace(",", "|"), read=1, accepted=1)
case("blank_separated", "user_id  event_type  ts          price\n" + "".join(
    f"u{i}       view        17092584{i:02d}  5\n" for i in range(20)) + "u99 view\n",
     read=21, accepted=20, reasons={"malformed_row": 1}, suffix=".txt")
# -- JSON lines
J = '{"user_id": "u0", "event_type": "view", "ts": "2024-03-01 10:00:00"}\n'
case("json_not_an_object", J + "[1, 2]\n", read=2, accepted=1, reasons={"malformed_row": 1}, suffix=".jsonl")
case("json_invalid", J + '{"user_id": "u1",\n', read=2, accepted=1, reasons={"malformed_row": 1}, suffix=".jsonl")
case("json_missing_key", J + '{"user_id": "u1", "event_type": "view"}\n', read=2, accepted=1,
     reasons={"missing_ts": 1}, suffix=".jsonl")
case("json_nested_value", J + '{"user_id": "u1", "event_type": "view", "ts": "2024-03-01 10:00:00", '
     '"item_id": {"sku": 1}}\n', read=2, accepted=2, suffix=".jsonl")
case("json_invalid_utf8", (J * 3).encode() + b'{"user_id": "u\xff", "event_type": "view"}\n', read=4, accepted=1,
     duplicates=2, reasons={"invalid_encoding": 1}, suffix=".jsonl")
case("json_keys_differing_by_case", '{"USER_ID": "U1", "user_id": "u1", "event_type": "view", '
     '"ts": "2024-03-01 10:00:00"}\n', read=1, accepted=1, suffix=".jsonl")
case("json_empty_key", '{"": 1, "user_id": "u1", "event_type": "view", "ts": "2024-03-01 10:00:00"}\n',
     read=1, accepted=1, suffix=".jsonl")
# -- users and items
U = "user_id,age,signup_date,birth_date\nu0,30,2020-01-01,1990-01-01\n"
case("users_age_200", U + "u1,200,2020-01-01,1990-01-01\n", table="users", read=2, accepted=1,
     reasons={"invalid_age": 1})
case("users_age_fraction", U + "u1,30.5,2020-01-01,1990-01-01\n", table="users", read=2, accepted=1,
     reasons={"invalid_age": 1})
case("users_signup_unparseable", U + "u1,30,去年,1990-01-01\n", table="users", read=2, accepted=1,
     reasons={"unparseable_date": 1})
case("users_signup_year_zero", U + "u1,30,0000-01-01,1990-01-01\n", table="users", read=2, accepted=1,
     reasons={"date_out_of_range": 1})
case("users_birth_in_future", U + "u1,30,2020-01-01,9999-12-31\n", table="users", read=2, accepted=1,
     reasons={"date_out_of_range": 1})
case("users_last_row_of_an_id_wins", U + "u0,31,2020-01-01,1990-01-01\n", table="users", read=2, accepted=1,
     duplicates=1)
case("items_price_text", "item_id,price\ni0,5\ni1,abc\n", table="items", read=2, accepted=1,
     reasons={"non_numeric_price": 1})
# -- Parquet
case("parquet_nan_float_id", parquet("p", {"user_id": pa.array([17850.0, float("nan")]),
                                           "event_type": pa.array(["view", "view"]), "ts": TS}),
     read=2, accepted=1, reasons={"missing_user_id": 1}, suffix=".parquet")
case("parquet_non_finite_price", parquet("p", {"user_id": pa.array(["a", "b"]), "event_type": pa.array(["view"] * 2),
                                               "ts": TS, "price": pa.array([1.0, float("inf")])}),
     read=2, accepted=1, reasons={"non_finite_number": 1}, suffix=".parquet")
case("parquet_bool_price", parquet("p", {"user_id": pa.array(["a"]), "event_type": pa.array(["view"]),
                                         "ts": TS.slice(0, 1), "price": pa.array([True])}),
     error="InputError", match=r"column 'price' \(price\) holds bool", suffix=".parquet")
case("parquet_time_of_day_ts", parquet("p", {"user_id": pa.array(["a"]), "event_type": pa.array(["view"]),
                                             "ts": pa.array([time(10, 0)], pa.time64("us"))}),
     error="InputError", match=r"column 'ts' \(ts\) holds time64", suffix=".parquet")
case("parquet_truncated", parquet("p", {"user_id": pa.array(["a"] * 100), "event_type": pa.array(["view"] * 100),
                                        "ts": pa.array([datetime(2024, 3, 1)] * 100, pa.timestamp("s"))})[:-40],
     error="InputError", match="not a readable Parquet file", suffix=".parquet")
case("parquet_categorical_columns", parquet("p", {
    "user_id": pa.array(["a", "b"]).dictionary_encode(), "event_type": pa.array(["view", "cart"]).dictionary_encode(),
    "ts": TS}), read=2, accepted=2, suffix=".parquet")
# -- mappings
case("mapping_reads_a_file", H + G, mapping="[expressions]\ncategory = \"(SELECT string_agg(line, '|') FROM "
     "read_csv('/etc/passwd', columns={'line': 'VARCHAR'}))\"\n", error="ConfigError", match="refused a subquery")
case("mapping_runs_a_statement", H + G, mapping='[expressions]\ncategory = "1); DELETE FROM events; SELECT (1"\n',
     error="ConfigError", match="not a valid SQL expression")
case("mapping_bad_directive", H + G, mapping='[ts]\nformat = "%Y-%Q"\n', error="ConfigError",
     match="unknown directive %Q")
case("mapping_numeric_constant", "user_id,event_type,ts\nu1,purchase,2024-03-01 10:00:00\n",
     mapping="[constants]\nprice = 5\n", read=1, accepted=1)

if __name__ == "__main__":
    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(CASES)} cases")
