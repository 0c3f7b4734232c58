"""
Soak tests: slow, long runs that `make test` leaves out (`make soak` runs
every tests/soak/test_*.py; tests/README.md). They use the e2e family's
fixtures and helpers (tests/e2e/conftest.py: a temp dir, a database, a
server, store-inspect) and its load tools (tests/e2e/pledge_load.py), loaded
here under another module name so both families can sit side by side.

Each test prints its figures (rates, sizes, counts) on lines starting with
"soak:"; `make soak` runs pytest with -s so they show.
"""
import importlib.util
import os
import sys
from pathlib import Path

E2E = Path(__file__).resolve().parents[1] / "e2e"
sys.path.insert(0, str(E2E))
_spec = importlib.util.spec_from_file_location("e2e_conftest", E2E / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e
_spec.loader.exec_module(e2e)

# The fixtures pytest should find here.
smtp = e2e.smtp
make_muster = e2e.make_muster


def soak_seconds(default=3600):
    """MUSTER_SOAK_SECONDS: how long the load runs (default: an hour)."""
    return float(os.environ.get("MUSTER_SOAK_SECONDS", default))


def report(line):
    print(f"soak: {line}", flush=True)
