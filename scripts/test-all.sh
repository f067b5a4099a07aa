#!/usr/bin/env bash
# Every test of the repository: the Rust workspace (unit, integration and doc tests), then the
# Python package's pytest suite against the freshly built `lyap` binary, then the browser test
# of report.html (tests/browser: headless Chromium via selenium; skipped with the reason printed
# when chromium/chromedriver are absent, a failure in CI).
#
# The Python tests run in a virtual environment under target/python-venv (made on first use,
# reused afterwards) with maturin, numpy and pytest from the package index; `pip install
# ./python` builds the extension there. Tests that need torch are skipped in that environment
# (it has no torch); run them with a Python that has torch:
#   <python-with-torch> -m pip install ./python
#   LYAP_BIN=target/debug/lyap <python-with-torch> -m pytest python/tests
set -euo pipefail
cd "$(dirname "$0")/.."

# Also leaves the `lyap` binary the Python tests compare against in target/debug (built in the
# test profile for the CLI's integration tests; a separate `cargo build` would compile the whole
# workspace again in the dev profile).
cargo test --workspace

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
export PATH="$PWD/$venv/bin:$PATH"  # the venv's maturin builds the extension
python -m pip install --quiet --upgrade maturin numpy pytest selenium
python -m pip install --quiet --no-build-isolation ./python
LYAP_BIN="$PWD/target/debug/lyap" python -m pytest -q python/tests
LYAP_BIN="$PWD/target/debug/lyap" python -m pytest -q -rs tests/browser
