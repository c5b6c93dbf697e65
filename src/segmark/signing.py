"""Signed pickles: a stored model is code, so a workspace only unpickles what it signed itself.

The signature is the HMAC-SHA256, under the workspace's own secret key (``.segmark-key`` beside the
database, never in it), of a domain (which table the model lives in), the model's id, its format and
the pickled bytes. Binding the id and the domain means a blob cannot be moved to another row or
another kind of model and still verify. Segment models and recommendation models both use it.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from segmark.errors import StoreError
from segmark.workspace import KEY_FILE, workspace_key

PICKLE = "pickle"


@runtime_checkable
class KeyHolder(Protocol):
    """What holds a workspace's key: a ``Workspace`` (on disk, or in memory with a key of its own)."""

    def signing_key(self, *, create: bool = False) -> bytes | None: ...


KeySource = Path | str | KeyHolder
"""A workspace folder (its ``.segmark-key``) or a workspace."""


def _key(source: KeySource, *, create: bool = False) -> bytes | None:
    if isinstance(source, KeyHolder):
        return source.signing_key(create=create)
    return workspace_key(source, create=create)


def signature(key: bytes, model_id: int, fmt: str, blob: bytes, *, domain: str = "") -> str:
    """HMAC-SHA256 of a stored model under ``key``, bound to its domain, id and format.

    The empty domain is the segment models' (the message they were first signed with)."""
    scope = f"{domain}:" if domain else ""
    message = b"segmark-model\0" + f"{scope}{int(model_id)}\0{fmt}\0".encode() + bytes(blob)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_pickle(root: KeySource, model_id: int, obj: Any, *, domain: str = "") -> tuple[bytes, str]:
    """The pickled ``obj`` and its signature under the workspace's key (made on first use).

    ``root`` is the workspace (needed for one in memory, whose key is in memory) or its folder."""
    key = _key(root, create=True)
    assert key is not None  # create=True makes it
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return blob, signature(key, model_id, PICKLE, blob, domain=domain)


def load_signed(root: KeySource, model_id: int, fmt: str, blob: bytes, sig: str | None, *, domain: str = "",
                what: str, remedy: str) -> Any:
    """Unpickle ``blob`` only when ``sig`` shows that this workspace wrote it, unchanged.

    ``what`` names the model in the refusal ("the stored model of segmentation 3"), ``remedy`` says
    how to make one here. Raises ``StoreError`` for a model of another workspace (another key, or a
    database copied without its key), one changed since it was written, or an unsigned one."""
    if fmt != PICKLE:
        raise StoreError(f"{what}: unknown model format {fmt!r}")
    key = _key(root)
    refusal = (f"{what} is not loaded: a model is code, and segmark only loads models signed with this "
               f"workspace's own key ({{why}}). {remedy}")
    if key is None:
        raise StoreError(refusal.format(why=f"this workspace has no {KEY_FILE}, so it wrote no model"))
    if not sig:
        raise StoreError(refusal.format(why="this one has no signature"))
    if not hmac.compare_digest(str(sig), signature(key, model_id, fmt, blob, domain=domain)):
        raise StoreError(refusal.format(why="this one was written by another workspace or changed since"))
    return pickle.loads(blob)  # verified: written by this workspace, unchanged


def library_versions(*dists: str) -> dict[str, str]:
    """Versions of the libraries a stored model was written with (segmark, scikit-learn, numpy and ``dists``)."""
    from importlib import metadata

    out = {}
    for dist in ("segmark", "scikit-learn", "numpy", *dists):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out
