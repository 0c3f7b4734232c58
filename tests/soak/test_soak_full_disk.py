"""
soak (c): the database on a full disk. The database is on a 64 MB tmpfs
(mounted here: root only, skipped otherwise) holding a 16 MB ballast file
(the server's log is elsewhere); pledges pour in (16 Python threads) until the disk is full. Then the
server must answer 503 (not 202, not a crash), say so in its log, lose no
pledge it answered 202, and take pledges again once the ballast is removed;
the database's own structure check passes. The tmpfs is unmounted at the end.
"""
import os
import subprocess
import time

import pytest

from conftest import e2e, report
from pledge_load import LogSampler, PledgeLoad

DISK_MB = 64
BALLAST_MB = 16


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_full_disk_answers_503_loses_nothing_and_recovers(small_disk, smtp, tmp_path):
    # Only the database is on the small disk: the server's log, the Maildir
    # and the exports are not (a log on the full disk could say nothing).
    db = small_disk / "muster.db"
    m = e2e.Muster(tmp_path / "muster", smtp, e2e.make_campaign(), env={
        "MUSTER_DB": str(db), "MUSTER_PLEDGE_LIMIT": "0",
        "MUSTER_SMTP": f"smtp://127.0.0.1:{e2e.free_port()}"})
    m.db_path = db
    ballast = small_disk / "ballast"
    with open(ballast, "wb") as f:
        f.write(b"\0" * (BALLAST_MB << 20))
    m.init()
    code, out, err = m.apply()
    assert code == 0, err
    m.start()
    try:
        sampler = LogSampler(m.db_path, interval=0.1).start()
        load = PledgeLoad(m.port, m.slug, "full", threads=16, seconds=300).start()
        t0 = time.monotonic()
        # Until the disk is full and the server has refused for a while.
        while load.statuses[503] < 200 and time.monotonic() - t0 < 290:
            load.stopping.wait(0.2)
        load.stop()
        sampler.stop()
        full_after = time.monotonic() - t0
        statuses = dict(load.statuses)
        acknowledged = list(load.accepted)
        report(f"full disk: after {full_after:.0f} s, statuses {statuses}, connection errors "
               f"{load.errors}, free {free_bytes(small_disk)} bytes, database "
               f"{os.stat(m.db_path).st_size} bytes, max WAL {sampler.max_bytes} bytes")
        assert load.statuses[503] >= 200, f"the disk never filled: {statuses}"
        assert set(statuses) <= {202, 503}, f"answers other than 202 and 503: {statuses}"
        assert m.proc.poll() is None, "the server died on the full disk"
        log = m.server_stderr()
        said = [line for line in log.splitlines() if "full" in line]
        report(f"full disk: {len(said)} log lines say so, the first: {said[:1]}")
        assert said, "the server's log does not say the disk is full"

        # Space again: the server takes pledges without a restart.
        ballast.unlink()
        deadline = time.monotonic() + 20
        while True:
            r = m.pledge("after-the-disk@example.org")
            if r.status == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.status == 202, f"after space was freed: {r}"
        acknowledged.append("after-the-disk@example.org")
        stored = {row["email"] for row in m.export("supporters")}
        lost = [a for a in acknowledged if a not in stored]
        check = m.inspect("integrity")
        report(f"full disk: acknowledged {len(acknowledged)}, present "
               f"{len(acknowledged) - len(lost)}, lost {len(lost)}, integrity {check}")
        assert not lost, f"{len(lost)} acknowledged pledges lost: {lost[:5]}"
        assert check.get("ok", True), check["problems"]
    finally:
        code, took = m.stop()
        problems = m.teardown_problems()
        print(f"--- muster serve stderr (tail) ---\n{m.server_stderr()[-3000:]}")
    assert code == 0, f"muster serve exited {code} after {took:.1f}s"
    assert not problems, problems
