"""
soak (b): MUSTER_SOAK_KILLS (default 35) times in a row, `muster serve` is
killed with SIGKILL in the middle of a pledge load (16 Python threads,
MUSTER_PLEDGE_LIMIT=0, a new address each), then the database's own
structure check must pass, the write-ahead log left behind must be under its
bound (default 64 MB), and the server restarts. At the end every pledge
answered 202 in any round must be stored: acknowledged, present and lost are
counted and printed.
"""
import os
import random
import time

from conftest import e2e, report
from pledge_load import LogSampler, PledgeLoad

BOUND = 64 << 20


def test_repeated_kill_9_under_pledge_load_loses_nothing(make_muster):
    kills = int(os.environ.get("MUSTER_SOAK_KILLS", 35))
    rng = random.Random(int(os.environ.get("MUSTER_SOAK_SEED", 1)))
    m = make_muster(env={"MUSTER_PLEDGE_LIMIT": "0",
                         "MUSTER_SMTP": f"smtp://127.0.0.1:{e2e.free_port()}"})
    acknowledged = []
    integrity_ok = 0
    max_wal = max_left = 0
    t0 = time.monotonic()
    for k in range(kills):
        sampler = LogSampler(m.db_path, interval=0.1).start()
        load = PledgeLoad(m.port, m.slug, f"kill{k}", threads=16, seconds=60).start()
        load.stopping.wait(rng.uniform(1.5, 5.0))
        m.kill9()
        left = sampler.size()
        load.stop()
        sampler.stop()
        acknowledged += load.accepted
        max_wal = max(max_wal, sampler.max_bytes)
        max_left = max(max_left, left)
        check = m.inspect("integrity")
        assert check.get("ok", True), f"kill {k + 1}: integrity_check: {check['problems']}"
        integrity_ok += 1
        assert left <= BOUND, f"kill {k + 1} left a write-ahead log of {left} bytes"
        m.start()
        stored = m.stats()["pledges"]
        report(f"kill {k + 1}/{kills}: {len(load.accepted)} acknowledged this round "
               f"({load.rate():.0f}/s, {load.errors} connection errors), {stored} stored in "
               f"all, {len(acknowledged)} acknowledged in all, WAL max {sampler.max_bytes} "
               f"left {left}, integrity ok")
        assert stored >= len(acknowledged), \
            f"after kill {k + 1}: {stored} stored, {len(acknowledged)} acknowledged"
    stored = {row["email"] for row in m.export("supporters")}
    lost = [a for a in acknowledged if a not in stored]
    report(f"kill9: {kills} kills in {time.monotonic() - t0:.0f} s, acknowledged "
           f"{len(acknowledged)}, present {len(acknowledged) - len(lost)}, lost {len(lost)}, "
           f"stored in all {len(stored)}, integrity_check ok {integrity_ok}/{kills}, max WAL "
           f"{max_wal} bytes, largest WAL left by a kill {max_left} bytes")
    assert not lost, f"{len(lost)} acknowledged pledges lost: {lost[:5]}"
