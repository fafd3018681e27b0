"""Saving and loading state dicts and training checkpoints: ``.npz`` + a JSON header, no pickle.

File format (version 1): a numpy ``.npz`` (zip) archive holding

* ``__gradkit__``: the UTF-8 bytes of a JSON header (as a uint8 array):
  ``{"format": "gradkit-checkpoint", "version": 1, "tree": ..., "arrays": {name: {"dtype", "shape"}}}``;
* ``a0``, ``a1``, ...: the numpy arrays, named by position, never by key (so no key can collide).

``tree`` encodes the saved object: dicts (str or int keys, order kept), lists,
tuples, str, int, float (incl. nan/inf), bool and None are JSON; arrays and
Tensors are references ``{"t": "array"|"tensor"|"scalar", "ref": "a3"}``. Files are
read with ``allow_pickle=False``: loading never runs code, and object arrays are
rejected. Writes are atomic: the data goes to a temporary file in the same
folder, is flushed and fsynced, and ``os.replace`` puts it in place, so the
target is always the complete old or the complete new checkpoint.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
import zipfile
from typing import Any

import numpy as np

from gradkit.autograd import random as gk_random
from gradkit.autograd.tensor import Tensor
from gradkit.nn.module import Module

FORMAT_NAME = "gradkit-checkpoint"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER_KEY = "__gradkit__"
_RESERVED = ("model", "optimizer", "scheduler", "rng")


class CheckpointError(ValueError):
    """A file is not a readable gradkit checkpoint (foreign, truncated, corrupt, unsupported version)."""


# ---------------------------------------------------------------------- encoding
def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """The JSON tree of ``obj``, moving arrays into ``arrays``; ``where`` names the position for errors."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        kind = "tensor" if isinstance(obj, Tensor) else "array" if isinstance(obj, np.ndarray) else "scalar"
        arr = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if arr.dtype.hasobject:
            raise ValueError(f"cannot save {where}: an array of dtype object (it would need pickle); convert it "
                             "to a numeric array")
        ref = f"a{len(arrays)}"
        arrays[ref] = arr
        return {"t": kind, "ref": ref}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"cannot save {where}: dict keys must be str or int, got {type(key).__name__} "
                                f"{key!r}")
            items.append(["s" if isinstance(key, str) else "i", key if isinstance(key, str) else int(key),
                          _encode(value, arrays, f"{where}[{key!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__, "v": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"cannot save {where}: values of type {type(obj).__name__} are not supported (supported: "
                    "Tensor, numpy array/scalar, dict, list, tuple, str, int, float, bool, None)")


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or "t" not in node:
        raise CheckpointError(f"not a gradkit checkpoint or truncated: malformed header entry {node!r:.80}")
    kind = node["t"]
    if kind == "dict":
        return {key: _decode(value, arrays) for _, key, value in node["items"]}
    if kind in ("list", "tuple"):
        values = [_decode(v, arrays) for v in node["v"]]
        return values if kind == "list" else tuple(values)
    if kind in ("tensor", "array", "scalar"):
        arr = arrays[node["ref"]]
        if kind == "tensor":
            return Tensor._make(arr)
        return arr if kind == "array" else arr[()]
    raise CheckpointError(f"not a gradkit checkpoint or truncated: unknown header entry type {kind!r}")


# ---------------------------------------------------------------------- save
def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def _clean_stale_temps(path: str) -> None:
    """Remove temp files of ``path`` left by killed processes (their pid is in the name and no longer runs)."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _temp_prefix(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        parts = name[len(prefix):-len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) == os.getpid():
            continue
        try:
            os.kill(int(parts[0]), 0)
            continue  # the writer still runs
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def _write_npz(fileobj: Any, arrays: dict[str, np.ndarray]) -> None:
    np.savez(fileobj, **arrays)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a state dict, a Module (its state dict) or a nested checkpoint dict to ``path`` atomically.

    Args:
        obj: a Module, or nested dicts/lists/tuples of Tensors, numpy arrays and Python
            scalars/str/None, with str or int dict keys.
        path: the file to write (exactly this name; no suffix is added).

    Raises:
        TypeError: an unsupported value or key type (its position named).
        ValueError: an object-dtype array.
        OSError: the folder is missing or not writable, or the disk is full (the old file stays intact).

    Example:
        >>> import os, tempfile
        >>> from gradkit import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> nn.save(nn.Linear(2, 1), path)
        >>> sorted(nn.load(path))
        ['bias', 'weight']
    """
    if isinstance(obj, Module):
        obj = obj.state_dict()
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "the checkpoint")  # every check before touching the disk
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree,
              "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()}}
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    _clean_stale_temps(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f"{_temp_prefix(path)}{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # keep an existing checkpoint's mode
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- load
def _bad(path: str, why: str) -> CheckpointError:
    return CheckpointError(f"{path!r} is not a gradkit checkpoint or truncated ({why})")


def load(path: str | os.PathLike) -> Any:
    """Load what :func:`save` wrote: dicts, lists, tuples and scalars as saved; Tensors and arrays as saved.

    Never unpickles (``allow_pickle=False``): a file cannot run code when loaded.

    Args:
        path: a file written by :func:`save`.

    Returns:
        The saved object (a state dict loads as a dict name -> Tensor).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: (a ValueError) the file is foreign, truncated or corrupt, holds object
            (pickled) arrays, or has an unsupported format version.

    Example:
        >>> import os, tempfile
        >>> from gradkit import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> nn.save({"epoch": 3, "lrs": [0.1, 0.01], "state": {0: None}}, path)
        >>> nn.load(path)
        {'epoch': 3, 'lrs': [0.1, 0.01], 'state': {0: None}}
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    with open(path, "rb") as f:
        magic = f.read(6)
    if not magic.startswith(b"PK\x03\x04"):  # sniff first: numpy would call any non-zip, non-npy file "pickled"
        why = ("an empty file" if not magic else "a single .npy array, not a gradkit .npz archive"
               if magic == b"\x93NUMPY" else "pickled data, which gradkit never loads (unpickling can run code)"
               if magic[:1] == b"\x80" else "not a zip archive")
        raise _bad(path, why)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if HEADER_KEY not in archive.files:
                raise _bad(path, f"an .npz archive without the {HEADER_KEY!r} header entry")
            header = json.loads(archive[HEADER_KEY].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
                raise _bad(path, "the header does not name the gradkit checkpoint format")
            version = header.get("version")
            if version not in SUPPORTED_VERSIONS:
                raise CheckpointError(f"{path!r}: unsupported gradkit checkpoint format version {version!r}; this "
                                      f"gradkit reads versions {list(SUPPORTED_VERSIONS)} (a newer gradkit wrote it?"
                                      " upgrade gradkit)")
            arrays = {}
            for name, meta in header["arrays"].items():
                arr = archive[name]
                if arr.dtype.str != meta["dtype"] or list(arr.shape) != meta["shape"]:
                    raise _bad(path, f"array {name} is {arr.dtype.str}{list(arr.shape)}, the header says "
                                     f"{meta['dtype']}{meta['shape']}")
                arrays[name] = arr
            return _decode(header["tree"], arrays)
    except CheckpointError:
        raise
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise _bad(path, f"it holds object arrays (pickled data), which gradkit never loads: {e}") from None
        raise _bad(path, f"{type(e).__name__}: {e}") from None
    except (OSError, EOFError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, UnicodeDecodeError,
            RecursionError) as e:
        raise _bad(path, f"{type(e).__name__}: {e}") from None


# ---------------------------------------------------------------------- checkpoints
def save_checkpoint(path: str | os.PathLike, model: Module, optimizer: Any = None, scheduler: Any = None,
                    **extra: Any) -> None:
    """Save everything needed to resume training bit for bit, atomically.

    Writes ``{"model": model.state_dict(), "optimizer": optimizer.state_dict(),
    "scheduler": scheduler.state_dict(), "rng": gradkit's generator state, **extra}``
    (optimizer and scheduler are used through ``state_dict()`` only, so any object with it works).

    Args:
        path: file to write.
        model: the model.
        optimizer, scheduler: optional objects with ``state_dict()``.
        **extra: more values to store (e.g. ``epoch=3``, ``best_loss=0.2``).

    Raises:
        ValueError: an extra key is one of model, optimizer, scheduler, rng.

    Example:
        >>> import os, tempfile
        >>> from gradkit import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> model = nn.Linear(2, 1)
        >>> nn.save_checkpoint(path, model, epoch=3)
        >>> nn.load_checkpoint(path, nn.Linear(2, 1))["epoch"]
        3
    """
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise ValueError(f"save_checkpoint: extra keys {clash} are reserved ({', '.join(_RESERVED)})")
    ckpt: dict[str, Any] = {"model": model.state_dict()}
    if optimizer is not None:
        ckpt["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        ckpt["scheduler"] = scheduler.state_dict()
    ckpt["rng"] = gk_random.get_rng_state()
    ckpt.update(extra)
    save(ckpt, path)


def load_checkpoint(path: str | os.PathLike, model: Module, optimizer: Any = None, scheduler: Any = None,
                    strict: bool = True) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into model, optimizer and scheduler, and restore the RNG.

    Args:
        path: the checkpoint file.
        model: receives ``load_state_dict(ckpt["model"], strict)``.
        optimizer, scheduler: optional; receive ``load_state_dict`` of their saved state.
        strict: passed to the model's ``load_state_dict``.

    Returns:
        The whole checkpoint dict (extras such as ``"epoch"`` included).

    Raises:
        CheckpointError: not a checkpoint, or an optimizer/scheduler was passed but none was saved.
        RuntimeError: the model's keys or shapes do not match (model left unchanged).
    """
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise CheckpointError(f"{os.fspath(path)!r} is not a training checkpoint (no 'model' entry); use "
                              "nn.load and model.load_state_dict for a plain state dict")
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and name not in ckpt:
            raise CheckpointError(f"{os.fspath(path)!r} has no {name} state (saved without {name}=)")
    model.load_state_dict(ckpt["model"], strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    if "rng" in ckpt:
        gk_random.set_rng_state(ckpt["rng"])
    return ckpt
