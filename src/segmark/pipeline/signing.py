"""Stored models are code: pickles the workspace wrote, signed with its own key, and loaded only
when the signature verifies.

The signature is the HMAC-SHA256, under the workspace's secret key (``.segmark-key`` beside the
database, never in it), of the model's id (a run id, unique in the workspace), its format and the
pickled bytes. A database copied from elsewhere, a blob changed after it was written, or a model
stored before models were signed is refused rather than unpickled. Every step that stores a model
(segmentations, predictive models, lifetime-value models) uses these functions.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
from importlib import metadata
from typing import Any

from segmark.errors import StoreError
from segmark.workspace import KEY_FILE, Workspace, workspace_key

MODEL_FORMAT = "pickle"


def signature(key: bytes, model_id: int, fmt: str, blob: bytes) -> str:
    """HMAC-SHA256 of a stored model under the workspace's key, bound to its id and format."""
    message = b"segmark-model\0" + f"{int(model_id)}\0{fmt}\0".encode() + bytes(blob)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def dump_signed(ws: Workspace, model_id: int, model: Any) -> tuple[str, bytes, str]:
    """(format, pickled bytes, signature) of a model, making the workspace's key when it has none."""
    key = workspace_key(ws.root, create=True)
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    return MODEL_FORMAT, blob, signature(key, model_id, MODEL_FORMAT, blob)


def load_signed(ws: Workspace, model_id: int, fmt: str, blob: bytes, sig: str | None, *, what: str,
                remedy: str) -> Any:
    """Unpickle a stored model once its signature shows this workspace wrote it, unchanged.

    ``what`` names it in the refusal ("the stored model of segmentation 12"); ``remedy`` says how to
    make a new one. Raises ``StoreError`` when the signature is missing or does not verify.
    """
    if fmt != MODEL_FORMAT:
        raise StoreError(f"{what}: unknown model format {fmt!r}")
    key = workspace_key(ws.root)
    refusal = (f"{what} is not loaded: a model is code, and segmark only loads models signed with this "
               "workspace's own key ({why}). " + remedy)
    if key is None:
        raise StoreError(refusal.format(why=f"this workspace has no {KEY_FILE}, so it wrote no model"))
    if not sig:
        raise StoreError(refusal.format(why="this one has no signature"))
    if not hmac.compare_digest(str(sig), signature(key, model_id, fmt, blob)):
        raise StoreError(refusal.format(why="this one was written by another workspace or changed since"))
    return pickle.loads(blob)  # verified: written by this workspace, unchanged


def library_versions(*dists: str) -> dict[str, str]:
    """Versions of the libraries a stored model was written with."""
    out = {}
    for dist in ("segmark", "scikit-learn", "numpy", *dists):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out
