"""How inputs are read: layouts, dtypes, zero-copy borrowing, and the GIL released."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import lyap
from conftest import random_state_dict, without_timing

W = random_state_dict("gru", 3, 4, seed=4)
X = np.random.default_rng(1).standard_normal((3, 20, 3))


def same(a, b):
    assert without_timing(a.to_dict()) == without_timing(b.to_dict())


def test_float32_and_float64_c_arrays_are_borrowed_not_copied():
    for x in (X, X.astype(np.float32)):
        result = lyap.spectrum(W, x)
        assert result._input_address == x.ctypes.data
    one = X[1]  # [T, D]: read as one sequence, still without a copy
    result = lyap.spectrum(W, one)
    assert result._input_address == one.ctypes.data
    assert result.config["batch"] == 1
    same(result, lyap.spectrum(W, X[1:2]))


def test_non_contiguous_and_other_float_dtypes_are_converted():
    strided = np.asfortranarray(X)
    same(lyap.spectrum(W, strided), lyap.spectrum(W, X))
    half = X.astype(np.float16)
    same(lyap.spectrum(W, half), lyap.spectrum(W, half.astype(np.float32)))
    same(lyap.spectrum(W, X.tolist()), lyap.spectrum(W, X))


def test_large_float32_input_does_not_double_memory(tmp_path):
    # A child process measures its peak resident memory before and after the call: a copy of
    # the 64 MB float32 input (or its conversion to float64) would add at least 64 MB.
    script = textwrap.dedent(
        """
        import resource, numpy as np, lyap
        from conftest import random_state_dict
        w = random_state_dict("rnn-tanh", 64, 2, seed=1)
        x = np.ones((4, 65536, 64), dtype=np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        s = lyap.spectrum(w, x, precision="float32", k=1, threads=1)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert s._input_address == x.ctypes.data
        print((after - before) // 1024)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parent))
    assert done.returncode == 0, done.stderr
    grown_mb = int(done.stdout.strip())
    assert grown_mb < 32, f"peak memory grew by {grown_mb} MB during the call"


def test_the_gil_is_released_while_computing():
    w = random_state_dict("lstm", 8, 48, seed=2)
    x = np.random.default_rng(3).standard_normal((2, 3000, 8))
    done = threading.Event()
    result = {}

    def work():
        result["spectrum"] = lyap.spectrum(w, x, threads=1)
        done.set()

    thread = threading.Thread(target=work)
    start = time.perf_counter()
    thread.start()
    ticks = 0
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    thread.join()
    elapsed = time.perf_counter() - start
    # Held GIL: the loop would run once or twice; released: about once per millisecond.
    assert elapsed > 0.05, "the computation is too short to tell"
    assert ticks > 10, f"only {ticks} iterations of the main thread in {elapsed:.2f} s"
    assert result["spectrum"].exponents.shape == (96,)


def test_threads_do_not_change_the_numbers():
    same(lyap.spectrum(W, X, threads=1), lyap.spectrum(W, X, threads=2))


def test_repr_is_short():
    text = repr(lyap.spectrum(W, X))
    assert text.startswith("<lyap.Spectrum gru 1x4 state=full k=4 batch=3 steps=20")
    assert len(text) < 200 and "\n" not in text
