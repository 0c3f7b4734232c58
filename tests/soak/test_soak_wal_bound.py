"""
soak (a): the write-ahead log stays under its default bound (64 MB,
MUSTER_WAL_LIMIT_MB unset) through MUSTER_SOAK_SECONDS (default 3600) of
pledges as fast as the server takes them, and every pledge answered 202 is
stored. The load is wrk with bench/pledge.lua (64 connections) when wrk is
installed (make deps-bench), else 32 Python threads; the -wal file's size is
sampled every 100 ms. The relay is Postfix's smtp-sink when installed
(make deps-bench), as in bench/pledge.sh: the sender then sends a
confirmation mail per pledge and records each, writes and read transactions
of its own beside the pledges' (the case where the log grew most before it
had a bound); else a port nobody listens on (every mail claimed and
deferred).
"""
import os
import re
import shutil
import socket
import subprocess
import time

from conftest import e2e, report, soak_seconds
from pledge_load import LogSampler, PledgeLoad

BOUND = 64 << 20


def run_wrk(m, seconds):
    """wrk with bench/pledge.lua: (202 answers, all statuses)."""
    script = e2e.ROOT / "bench" / "pledge.lua"
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(script),
         m.base_url],
        env=dict(os.environ, SLUG=m.slug, RUN=str(int(time.time()))), capture_output=True,
        text=True, timeout=seconds + 120)
    assert out.returncode == 0, out.stderr
    line = re.search(r"^statuses: (.*)$", out.stdout, re.M)
    assert line, out.stdout
    statuses = dict(kv.split("=") for kv in line.group(1).split())
    return int(statuses.get("202", 0)), statuses


SMTP_SINK = "/usr/sbin/smtp-sink"


def start_sink(port, log):
    """Postfix's smtp-sink on 127.0.0.1:port (discards every message), or None."""
    if not os.access(SMTP_SINK, os.X_OK):
        return None
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([SMTP_SINK, *user, "-c", "-m", "512", f"127.0.0.1:{port}", "1000"],
                            stdout=log, stderr=subprocess.STDOUT)
    e2e.wait_until(lambda: _accepts(port), 10, what="smtp-sink listening")
    return sink


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def test_wal_stays_under_the_default_bound_for_the_whole_soak(make_muster, tmp_path):
    seconds = soak_seconds()
    relay = e2e.free_port()
    with open(tmp_path / "sink.log", "wb") as log:
        sink = start_sink(relay, log)
    try:
        run_soak(make_muster, seconds, relay, "smtp-sink" if sink else "no relay")
    finally:
        if sink:
            sink.terminate()
            sink.wait(10)


def run_soak(make_muster, seconds, relay, relay_name):
    m = make_muster(env={"MUSTER_PLEDGE_LIMIT": "0", "MUSTER_SMTP": f"smtp://127.0.0.1:{relay}"})
    before = m.stats()["pledges"]
    sampler = LogSampler(m.db_path, interval=0.1).start()
    t0 = time.monotonic()
    if shutil.which("wrk"):
        accepted, statuses = run_wrk(m, seconds)
        tool = "wrk -c64"
    else:
        load = PledgeLoad(m.port, m.slug, "soak", threads=32, seconds=seconds).start()
        load.join(timeout=seconds + 120)
        accepted, statuses = len(load.accepted), dict(load.statuses)
        tool = "python x32"
    elapsed = time.monotonic() - t0
    sampler.stop()
    stored = m.stats()["pledges"] - before
    db_bytes = os.stat(m.db_path).st_size
    report(f"wal-bound: {tool}, relay {relay_name}, {elapsed:.0f} s, {accepted} pledges answered 202 "
           f"({accepted / elapsed:.0f}/s), statuses {statuses}, stored {stored}, "
           f"max WAL {sampler.max_bytes} bytes ({sampler.max_bytes / 2**20:.1f} MB, bound "
           f"{BOUND >> 20} MB, {sampler.samples} samples), WAL at the end {sampler.size()} "
           f"bytes, database {db_bytes} bytes")
    assert accepted > 0
    # wrk may stop with requests in flight that were stored but never counted.
    assert stored >= accepted, f"{accepted - stored} pledges answered 202 are missing"
    assert sampler.max_bytes < BOUND, \
        f"the write-ahead log reached {sampler.max_bytes} bytes, bound {BOUND}"
