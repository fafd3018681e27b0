"""Crash-safe saves (SL-04, SL-05 at scale): SIGKILL at random points, Python-level errors, malicious files.

* A fork server (a subprocess that imported gradkit once) forks writers that save two
  alternating checkpoints in a loop; the test kills each writer with SIGKILL after a random
  delay spread over several save durations, then loads the target: it must always be the
  complete old or complete new checkpoint. Killed writers may leave their temp file (that is
  what a temp file is for); the next save removes them.
* Python-level errors injected at random byte offsets of the write, in fsync, chmod and
  os.replace (OSError, KeyboardInterrupt, MemoryError): the old file stays, no temp file stays.
* Crafted files (pickle payloads, object arrays, a header pointing at a pickled entry) are
  rejected with CheckpointError and a canary payload never runs.
"""
from __future__ import annotations

import errno
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from gradkit import nn
from gradkit.nn import serialization
from gradkit.nn.serialization import CheckpointError

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="POSIX fork/SIGKILL")

N_VALUES = 300_000  # 2.4 MB per checkpoint: a save takes a few milliseconds

_SERVER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from gradkit import nn
    path, n = sys.argv[1], int(sys.argv[2])
    versions = [{"version": v, "w": np.full(n, float(v)), "tail": {"step": v, "name": "v%d" % v}} for v in (1, 2)]
    nn.save(versions[0], path)
    start = time.perf_counter()
    for i in range(10):
        nn.save(versions[i % 2], path)
    print((time.perf_counter() - start) / 10, flush=True)  # the time one save takes
    for line in sys.stdin:
        first = int(line)
        pid = os.fork()
        if pid == 0:
            i = first
            while True:
                nn.save(versions[i % 2], path)
                i += 1
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
""")


def _temps(folder) -> list[str]:
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


def _assert_complete(path, n: int) -> int:
    ckpt = nn.load(path)
    version = ckpt["version"]
    assert version in (1, 2)
    assert ckpt["w"].shape == (n,) and np.all(ckpt["w"] == float(version))
    assert ckpt["tail"] == {"step": version, "name": f"v{version}"}
    return version


def sigkill_campaign(folder, kills: int, seed: int = 0, n: int = N_VALUES) -> dict:
    """Kill ``kills`` writers mid-loop; returns what was found after each kill."""
    path = os.path.join(folder, "ckpt.npz")
    rng = np.random.default_rng(seed)
    server = subprocess.Popen([sys.executable, "-c", _SERVER, path, str(n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    found = {"kills": kills, "survived": 0, "old_or_new": {1: 0, 2: 0}, "mid_write": 0, "save_seconds": None}
    try:
        save_seconds = float(server.stdout.readline())
        found["save_seconds"] = save_seconds
        for k in range(kills):
            server.stdin.write(f"{k}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0, 4 * save_seconds))
            os.kill(pid, signal.SIGKILL)
            assert server.stdout.readline().strip() == "reaped"
            before = set(_temps(folder))
            version = _assert_complete(path, n)
            found["old_or_new"][version] += 1
            found["mid_write"] += bool(before)
            found["survived"] += 1
            for name in before:  # only temp files of the killed writer; never a partial target
                assert name.startswith(".ckpt.npz.") and name != "ckpt.npz"
            if before and k % 10 == 9:  # the next save (any process) cleans dead writers' temps
                nn.save({"version": 1, "w": np.full(n, 1.0), "tail": {"step": 1, "name": "v1"}}, path)
                assert _temps(folder) == []
    finally:
        server.stdin.close()
        server.kill()
        server.wait(timeout=30)
        server.stdout.close()
    nn.save({"version": 3}, path)
    assert _temps(folder) == []
    return found


def test_sigkill_at_random_points_always_leaves_the_old_or_new_checkpoint(tmp_path, long_run, figures):
    kills = 1000 if long_run else 30
    found = sigkill_campaign(str(tmp_path), kills)
    figures["killed saves survived"] = (f"{found['survived']}/{found['kills']} (old {found['old_or_new'][1]}, "
                                        f"new {found['old_or_new'][2]}; {found['mid_write']} killed mid-write)")
    assert found["survived"] == kills
    assert found["mid_write"] > 0, "no kill landed inside a save: the delays do not cover the write"


# ---------------------------------------------------------------------- Python-level errors
class _Budget:
    """A file object that raises after ``left`` bytes (a write failing part way)."""

    def __init__(self, f, left: int, error: BaseException) -> None:
        self._f, self._left, self._error = f, left, error

    def write(self, b) -> int:
        b = bytes(b)
        if len(b) > self._left:
            self._f.write(b[:self._left])
            raise self._error
        self._left -= len(b)
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)


ERRORS = [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt(), MemoryError(),
          RuntimeError("injected")]


def _new_state() -> dict:
    return {"version": 2, "w": np.arange(50_000, dtype=np.float64), "b": np.ones(3, np.float32)}


def test_python_level_errors_at_random_points_leave_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    old = {"version": 1, "w": np.zeros(10)}
    nn.save(old, path)
    size = len(_encoded(_new_state()))
    rng = np.random.default_rng(1)
    real_write = serialization._write_npz
    points = [("write", int(k)) for k in rng.integers(0, size, 12)] + [("write", 0), ("fsync", 0),
                                                                     ("chmod", 0), ("replace", 0)]
    for point, (where, k) in enumerate(points):
        error = ERRORS[point % len(ERRORS)]
        with monkeypatch.context() as m:
            if where == "write":
                m.setattr(serialization, "_write_npz", lambda f, arrays, k=k, e=error: real_write(_Budget(f, k, e),
                                                                                                  arrays))
            else:
                target = {"fsync": (serialization.os, "fsync"), "chmod": (serialization.os, "chmod"),
                          "replace": (serialization.os, "replace")}[where]

                def fail(*args, e=error, **kwargs):
                    raise e
                m.setattr(*target, fail)
            with pytest.raises(type(error)):
                nn.save(_new_state(), path)
        assert _temps(tmp_path) == [], f"temp file left after {type(error).__name__} in {where} at byte {k}"
        ckpt = nn.load(path)
        assert ckpt["version"] == 1 and np.array_equal(ckpt["w"], old["w"])
    nn.save(_new_state(), path)
    assert nn.load(path)["version"] == 2 and _temps(tmp_path) == []


def _encoded(state: dict) -> bytes:
    buf = io.BytesIO()
    arrays: dict = {}
    serialization._encode(state, arrays, "x")
    serialization._write_npz(buf, arrays)
    return buf.getvalue()


# ---------------------------------------------------------------------- malicious files
class _Canary:
    """Unpickling this creates the canary file (proof that code ran)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _header(arrays: dict) -> np.ndarray:
    header = {"format": serialization.FORMAT_NAME, "version": serialization.FORMAT_VERSION,
              "tree": {"t": "dict", "items": [["s", "w", {"t": "array", "ref": "a0"}]]},
              "arrays": {k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()}}
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def _malicious_files(folder, canary: str) -> dict[str, str]:
    evil = _Canary(canary)
    obj_array = np.array([evil, 1], dtype=object)
    files = {}

    def path(name):
        files[name] = os.path.join(folder, name + ".npz")
        return files[name]

    with open(path("raw_pickle"), "wb") as f:
        pickle.dump({"w": evil}, f)
    with open(path("pickle_protocol0"), "wb") as f:
        pickle.dump(evil, f, protocol=0)
    with open(path("npy_object_array"), "wb") as f:
        np.save(f, obj_array, allow_pickle=True)
    np.savez(path("npz_object_array_with_header"), __gradkit__=_header({"a0": obj_array}), a0=obj_array)
    np.savez(path("npz_object_header"), __gradkit__=obj_array, a0=np.zeros(2))
    good_header = _header({"a0": np.zeros(2)})
    with zipfile.ZipFile(path("zip_member_is_pickle"), "w") as z:  # an entry that is a raw pickle, not .npy
        z.writestr("__gradkit__.npy", _npy_bytes(good_header))
        z.writestr("a0.npy", pickle.dumps(evil))
    with zipfile.ZipFile(path("header_lies_about_dtype"), "w") as z:  # header says float, entry is object
        z.writestr("__gradkit__.npy", _npy_bytes(good_header))
        z.writestr("a0.npy", _npy_bytes(obj_array))
    return files


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def test_canary_payload_is_live(tmp_path):
    """The payload does run when unpickled: its absence below proves gradkit never unpickled it."""
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(_Canary(str(canary))))
    assert canary.exists()


def test_malicious_files_are_rejected_and_never_run_code(tmp_path):
    canary = tmp_path / "canary"
    files = _malicious_files(str(tmp_path), str(canary))
    for name, file in files.items():
        with pytest.raises(CheckpointError, match="not a gradkit checkpoint|pickle|object"):
            nn.load(file)
        with pytest.raises(CheckpointError):
            nn.load_checkpoint(file, nn.Linear(2, 1))
        assert not canary.exists(), f"{name}: the payload ran"
