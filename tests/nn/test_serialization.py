"""nn.save / nn.load / checkpoints: exact round trips, no pickle, atomic writes, corrupt files (SL-01..SL-09)."""
from __future__ import annotations

import errno
import math
import os
import pickle
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autograd import random as gk_random
from gradkit.nn import serialization
from gradkit.nn.serialization import CheckpointError


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.2), nn.Linear(8, 2))


def _trained(model: nn.Module) -> nn.Module:
    for _ in range(3):  # move the BatchNorm running statistics and counter off their defaults
        model(gk.autograd.randn(16, 4))
    return model


def _temps(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


# ---------------------------------------------------------------------- SL-01, SL-09: exact round trips
def test_roundtrip_into_fresh_model_is_bitwise_sl01(tmp_path):
    model = _trained(_model()).eval()
    path = tmp_path / "model.npz"
    nn.save(model, path)
    fresh = _model()
    fresh.load_state_dict(nn.load(path))
    fresh.eval()
    x = gk.autograd.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)
    for key, value in model.state_dict().items():
        loaded = fresh.state_dict()[key]
        assert loaded.dtype == value.dtype and np.array_equal(loaded.data, value.data), key
    assert int(fresh[1].num_batches_tracked.item()) == 3
    f64 = _model().double()
    nn.save(f64.state_dict(), path)
    assert all(v.dtype == np.float64 for k, v in nn.load(path).items() if "num_batches" not in k)


def test_nested_checkpoint_values_roundtrip_exactly_sl09(tmp_path):
    gk.manual_seed(11)
    gk.autograd.randn(3)
    ckpt = {
        "model": _model().state_dict(),
        "optimizer": {"state": {0: {"momentum_buffer": np.arange(3.0), "step": 7}, 1: {}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "foreach": None,
                                        "nesterov": False}]},
        "rng": gk_random.get_rng_state(),
        "epoch": 3, "big": 2 ** 100, "neg_zero": -0.0, "nan": float("nan"), "inf": -math.inf,
        "third": 1 / 3, "text": "ünïcode \n", "empty": [], "unit": (), "npf": np.float32(1.5),
        "npi": np.int64(-4), "bool_arr": np.array([True, False]), "int8": np.arange(4, dtype=np.int8),
        "keys": {"0": "string zero", 0: "int zero", "a.b.c": 1, "__gradkit__": 2, "a0": 3, -5: None},
    }
    path = tmp_path / "ckpt.npz"
    nn.save(ckpt, path)
    back = nn.load(path)
    assert list(back) == list(ckpt)
    assert back["keys"] == ckpt["keys"] and list(back["keys"]) == list(ckpt["keys"])  # order, int vs str keys
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert isinstance(back["optimizer"]["param_groups"][0]["betas"], tuple)
    assert list(back["optimizer"]["state"]) == [0, 1] and back["optimizer"]["state"][0]["step"] == 7
    assert back["rng"] == ckpt["rng"]
    for key in ("epoch", "big", "third", "text", "empty", "unit"):
        assert back[key] == ckpt[key] and type(back[key]) is type(ckpt[key]), key
    assert math.copysign(1, back["neg_zero"]) == -1 and math.isnan(back["nan"]) and back["inf"] == -math.inf
    assert back["npf"] == np.float32(1.5) and back["npf"].dtype == np.float32 and back["npi"].dtype == np.int64
    np.testing.assert_array_equal(back["bool_arr"], ckpt["bool_arr"])
    assert back["int8"].dtype == np.int8
    assert isinstance(back["optimizer"]["state"][0]["momentum_buffer"], np.ndarray)  # arrays stay arrays
    assert isinstance(back["model"]["0.weight"], gk.Tensor)  # tensors stay tensors


def test_unsupported_values_and_keys_are_named():
    with pytest.raises(TypeError, match=r"\['fn'\].*function"):
        nn.save({"fn": lambda: 0}, "unused.npz")
    with pytest.raises(TypeError, match="dict keys must be str or int.*float"):
        nn.save({1.5: 0}, "unused.npz")
    with pytest.raises(ValueError, match="dtype object"):
        nn.save({"x": np.array([{}], dtype=object)}, "unused.npz")
    assert not os.path.exists("unused.npz")


# ---------------------------------------------------------------------- SL-04: no pickle, ever
class _Canary:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))  # runs if anyone unpickles this


def test_pickle_payload_never_executes_sl04(tmp_path):
    canary = str(tmp_path / "canary_pickle")
    bad = tmp_path / "evil.npz"
    bad.write_bytes(pickle.dumps({"weight": _Canary(canary)}))
    with pytest.raises(CheckpointError, match="pickle"):
        nn.load(bad)
    assert not os.path.exists(canary)
    pickle.loads(bad.read_bytes())  # the payload is live: unpickling would have run it
    assert os.path.exists(canary)


def test_object_array_in_npz_is_rejected_without_running_sl04(tmp_path):
    canary = str(tmp_path / "canary_npz")
    path = tmp_path / "ckpt.npz"
    nn.save({"w": np.zeros(2)}, path)
    with np.load(path) as real:
        header = real["__gradkit__"]
    obj = np.empty(1, dtype=object)
    obj[0] = _Canary(canary)
    np.savez(path, __gradkit__=header, a0=obj)  # numpy pickles object arrays
    with pytest.raises(ValueError, match="(?i)object|pickle") as info:
        nn.load(path)
    assert isinstance(info.value, CheckpointError)
    assert not os.path.exists(canary)


# ---------------------------------------------------------------------- SL-06, SL-07: bad files
def _good_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.npz"
    nn.save(_trained(_model()), path)
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["truncated", "random", "empty", "text", "npy", "foreign_npz", "bad_header",
                                  "corrupt_member"])
def test_bad_files_raise_checkpoint_error_sl06(tmp_path, kind):
    path = tmp_path / "bad.npz"
    good = _good_bytes(tmp_path)
    rng = np.random.default_rng(0)
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "random":
        path.write_bytes(rng.bytes(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("weight,bias\n1,2\n")
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif kind == "foreign_npz":
        np.savez(str(path), weight=np.zeros(3))
    elif kind == "bad_header":
        with open(path, "wb") as f:
            np.savez(f, __gradkit__=np.frombuffer(b"{not json", dtype=np.uint8))
    elif kind == "corrupt_member":
        data = bytearray(good)
        data[len(data) // 3: len(data) // 3 + 64] = rng.bytes(64)  # flips bytes inside an array member
        path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="not a gradkit checkpoint or truncated") as info:
        nn.load(path)
    assert isinstance(info.value, ValueError)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        nn.load(tmp_path / "nope.npz")


def test_unsupported_format_version_sl07(tmp_path, monkeypatch):
    path = tmp_path / "future.npz"
    monkeypatch.setattr(serialization, "FORMAT_VERSION", 99)
    nn.save({"w": np.zeros(2)}, path)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=r"unsupported gradkit checkpoint format version 99.*\[1\]"):
        nn.load(path)
    nn.save({"w": np.zeros(2)}, path)
    with zipfile.ZipFile(path) as z:
        assert "__gradkit__.npy" in z.namelist()


# ---------------------------------------------------------------------- SL-02, SL-03, SL-08 through files
def test_loading_mismatched_checkpoint_leaves_model_unchanged_sl02(tmp_path):
    path = tmp_path / "other.npz"
    nn.save(nn.Sequential(nn.Linear(4, 7), nn.BatchNorm1d(7)), path)
    model = _model()
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(nn.load(path))
    msg = str(info.value)
    assert "Missing key(s)" in msg and '"3.weight"' in msg and "size mismatch for 0.weight" in msg
    assert all(np.array_equal(before[k], v.data) for k, v in model.state_dict().items())
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(nn.load(path), strict=False)  # still an error without strict


def test_float64_checkpoint_into_float32_model_casts_with_warning_sl08(tmp_path):
    path = tmp_path / "f64.npz"
    src = _model().double()
    nn.save(src, path)
    dst = _model()
    with pytest.warns(UserWarning, match="float64 -> float32"):
        dst.load_state_dict(nn.load(path))
    assert dst[0].weight.dtype == np.float32
    np.testing.assert_array_equal(dst[0].weight.data, src[0].weight.data.astype(np.float32))


# ---------------------------------------------------------------------- SL-05: atomic writes
def test_exception_mid_write_keeps_old_file_and_removes_temp_sl05(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nn.save({"version": 1, "w": np.ones(10)}, path)
    old = path.read_bytes()

    def broken(fileobj, arrays):
        fileobj.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # even a Ctrl-C mid-write

    monkeypatch.setattr(serialization, "_write_npz", broken)
    with pytest.raises(KeyboardInterrupt):
        nn.save({"version": 2, "w": np.zeros(10)}, path)
    assert path.read_bytes() == old and nn.load(path)["version"] == 1
    assert _temps(tmp_path) == []


def test_disk_full_keeps_old_file_sl05(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    nn.save({"version": 1}, path)

    def fsync_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization.os, "fsync", fsync_full)
    with pytest.raises(OSError, match="No space left"):
        nn.save({"version": 2, "w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert nn.load(path) == {"version": 1} and _temps(tmp_path) == []


_CHILD = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    from gradkit import nn
    path, mode = sys.argv[1], sys.argv[2]
    big = {"w": np.full(2_000_000, 2.0)}
    if mode == "fsize":  # a real 'file too large' during the write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
        try:
            nn.save({"version": 2, **big}, path)
        except OSError as e:
            print("OSError", e.errno)
        sys.exit(0)
    versions = [{"version": 1, "w": np.full(2_000_000, 1.0)}, {"version": 2, **big}]
    i = 0
    while True:
        nn.save(versions[i % 2], path)
        if i == 0:
            print("ready", flush=True)
        i += 1
""")


def _run_child(path, mode):
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(path), mode], stdout=subprocess.PIPE, text=True)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_real_write_failure_file_too_large_sl05(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"version": 1}, path)
    child = _run_child(path, "fsize")
    out, _ = child.communicate(timeout=60)
    assert out.startswith("OSError")
    assert nn.load(path) == {"version": 1} and _temps(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_during_saves_leaves_a_complete_checkpoint_sl05(tmp_path):
    path = tmp_path / "ckpt.npz"
    rng = np.random.default_rng(0)
    for _ in range(3):
        child = _run_child(path, "loop")
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        ckpt = nn.load(path)  # always a complete old or new checkpoint
        assert ckpt["version"] in (1, 2)
        assert np.all(ckpt["w"] == float(ckpt["version"]))
    nn.save({"version": 3}, path)  # a later save cleans temps left by the killed writers
    assert _temps(tmp_path) == [] and nn.load(path) == {"version": 3}


def test_stale_temp_of_dead_process_is_cleaned_live_one_kept(tmp_path):
    path = tmp_path / "m.npz"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.npz.{dead.pid}.deadbeef.tmp"
    stale.write_bytes(b"partial")
    live = tmp_path / f".m.npz.{os.getppid()}.cafebabe.tmp"  # a running process: maybe saving right now
    live.write_bytes(b"in progress")
    other = tmp_path / f".other.npz.{dead.pid}.deadbeef.tmp"  # another checkpoint's temp: not ours to touch
    other.write_bytes(b"x")
    nn.save({"a": 1}, path)
    assert not stale.exists() and live.exists() and other.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_file_mode_preserved_and_new_file_follows_umask_sl05(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"a": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    os.chmod(path, 0o640)
    nn.save({"a": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


# ---------------------------------------------------------------------- training checkpoints
class _MomentumSGD:
    """Stand-in optimizer used only if gradkit.optim is unavailable (duck-typed state_dict API)."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.buffers = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p, b in zip(self.params, self.buffers):
            b *= self.momentum
            b += p.grad.data
            p.data -= self.lr * b

    def state_dict(self):
        return {"state": {i: {"momentum_buffer": b.copy()} for i, b in enumerate(self.buffers)},
                "param_groups": [{"lr": self.lr, "momentum": self.momentum}]}

    def load_state_dict(self, sd):
        self.buffers = [np.array(sd["state"][i]["momentum_buffer"]) for i in range(len(self.params))]
        self.lr = sd["param_groups"][0]["lr"]


def _optimizer(model):
    try:
        from gradkit import optim
    except ImportError:
        return _MomentumSGD(model.parameters()), None
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return opt, optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)


def _train(model, opt, sched, steps, data):
    for x, y in data[:steps]:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()


def test_resume_from_checkpoint_is_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    data = [(gk.tensor(rng.normal(size=(8, 4)), dtype=np.float32), gk.tensor(rng.normal(size=(8, 2)),
             dtype=np.float32)) for _ in range(6)]
    gk.manual_seed(1)
    ref = _model()
    ref_opt, ref_sched = _optimizer(ref)
    _train(ref, ref_opt, ref_sched, 6, data)  # uninterrupted: 6 steps (dropout draws from the generator)

    gk.manual_seed(1)
    model = _model()
    opt, sched = _optimizer(model)
    _train(model, opt, sched, 3, data)
    path = tmp_path / "ckpt.npz"
    nn.save_checkpoint(path, model, opt, sched, epoch=3)
    gk.manual_seed(999)  # the interruption: a new process, other random state and weights
    model2 = _model()
    opt2, sched2 = _optimizer(model2)
    ckpt = nn.load_checkpoint(path, model2, opt2, sched2)
    assert ckpt["epoch"] == 3
    _train(model2, opt2, sched2, 3, data[3:])
    for (k, a), b in zip(ref.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)


def test_checkpoint_helpers_validate(tmp_path):
    path = tmp_path / "ckpt.npz"
    with pytest.raises(ValueError, match="reserved"):
        nn.save_checkpoint(path, _model(), rng=1)
    nn.save_checkpoint(path, _model())
    opt, _ = _optimizer(_model())
    with pytest.raises(CheckpointError, match="no optimizer state"):
        nn.load_checkpoint(path, _model(), opt)
    nn.save(_model(), path)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        nn.load_checkpoint(path, _model())
