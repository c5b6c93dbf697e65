"""The sample shop as a workspace: generate it, write its files, run the main job on them."""

from __future__ import annotations

from pathlib import Path

from segmark.demo import generate_shop, write_shop
from segmark.errors import WorkspaceError
from segmark.pipeline.run import FlowInputs
from segmark.workspace import init_workspace

DEMO_MARK = "# The demo shop"
DEMO_SETTINGS = """\
# The demo shop: a Chinese online shop, so local times are Beijing time.
lang = "{lang}"

[time]
timezone = "Asia/Shanghai"
"""


def check_demo_folder(root: Path, *, force: bool = False) -> None:
    """Refuse to replace a folder that holds anything but an earlier sample shop (unless forced)."""
    if force or not root.exists() or not any(root.iterdir()):
        return
    settings = root / "segmark.toml"
    if settings.exists() and settings.read_text(encoding="utf-8").startswith(DEMO_MARK):
        return
    what = "a segmark workspace" if settings.exists() else "files"
    raise WorkspaceError(f"{root} holds {what} that are not a sample shop; the demo would replace its database. "
                         "Choose another folder (--workspace), or pass force=True (--force).")


def prepare_demo(root: Path, *, users: int = 50_000, seed: int = 0, lang: str = "en") -> FlowInputs:
    """Make a fresh workspace at ``root`` holding the generated shop's files under ``data/``.

    The generator's truth (each user's planted behaviour type) goes to ``data/truth.csv``, which
    segmark itself never reads; evaluations compare segments against it.
    """
    root = Path(root)
    settings = root / "segmark.toml"
    if (root / "segmark.duckdb").exists():
        (root / "segmark.duckdb").unlink()
        wal = root / "segmark.duckdb.wal"
        if wal.exists():
            wal.unlink()
    root.mkdir(parents=True, exist_ok=True)
    settings.write_text(DEMO_SETTINGS.format(lang=lang), encoding="utf-8")
    init_workspace(root)
    shop = generate_shop(n_users=users, seed=seed)
    paths = write_shop(shop, root / "data")
    return FlowInputs(events=paths["events"], users=paths["users"], items=paths["items"],
                      report=root / "report.html", lang=lang)
