"""Segment migration between two segmentations of the same users at different dates.

Both inputs map user id to segment name. A user present only in the later run comes from
``NEW`` ("(new)"); one present only in the earlier run goes to ``GONE`` ("(gone)"). The result
counts users per (from, to) cell and, when a revenue per user is given, sums it per cell, so the
reader sees both how many users and how much money moved from, say, Loyal to At Risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

NEW = "(new)"
GONE = "(gone)"


@dataclass
class Migration:
    users: pd.DataFrame
    """Rows: segment in the earlier run; columns: segment in the later run; values: users."""
    revenue: pd.DataFrame | None
    """Same shape: summed revenue of the users in each cell (None without revenue)."""

    @property
    def stayed_share(self) -> float:
        """Share of users present in both runs whose segment did not change."""
        both = self.users.drop(index=NEW, columns=GONE, errors="ignore")
        common = [s for s in both.index if s in both.columns]
        total = both.to_numpy().sum()
        return float(sum(both.loc[s, s] for s in common) / total) if total else float("nan")


def migration_matrix(before: pd.Series, after: pd.Series, *, revenue: pd.Series | None = None,
                     order: list[str] | None = None) -> Migration:
    """Cross-tabulate ``before`` against ``after`` (both indexed by user id)."""
    frame = pd.concat({"from": before.astype(object), "to": after.astype(object)}, axis=1, join="outer")
    frame["from"] = frame["from"].where(frame["from"].notna(), NEW)
    frame["to"] = frame["to"].where(frame["to"].notna(), GONE)
    users = pd.crosstab(frame["from"], frame["to"])
    rev = None
    if revenue is not None:
        frame["revenue"] = pd.to_numeric(revenue.reindex(frame.index), errors="coerce").fillna(0.0)
        rev = frame.pivot_table(index="from", columns="to", values="revenue", aggfunc="sum", fill_value=0.0)
        rev = rev.reindex(index=users.index, columns=users.columns, fill_value=0.0)
    if order is not None:
        rows = [s for s in order if s in users.index] + [s for s in users.index if s not in order]
        cols = [s for s in order if s in users.columns] + [s for s in users.columns if s not in order]
        rows = [s for s in rows if s != NEW] + ([NEW] if NEW in rows else [])
        cols = [s for s in cols if s != GONE] + ([GONE] if GONE in cols else [])
        users = users.loc[rows, cols]
        rev = None if rev is None else rev.loc[rows, cols]
    users.index.name, users.columns.name = "from", "to"
    if rev is not None:
        rev.index.name, rev.columns.name = "from", "to"
    return Migration(users, rev)
