"""
test_wal_bound: the write-ahead log stays under its bound while pledges pour
in (MUSTER_WAL_LIMIT_MB, here 3 MB so the test is short and sensitive, with room for a busy machine; the
default is 64 MB), and a kill -9 in the middle of the load leaves a log no
larger than the bound, loses no acknowledged pledge and leaves a database
whose own structure check passes. Without a keeper, SQLite's log grows by
every commit under a steady load (its own checkpoints never wait, and the
log starts over only when a writer happens to find it fully copied and no
reader on an old snapshot): gigabytes in a minute, left behind by a kill.

Load: 16 threads with keep-alive connections POST JSON pledges (a new address
each, MUSTER_PLEDGE_LIMIT=0); the -wal file's size is sampled every 20 ms.
The relay is a port nobody listens on: the sender still claims and defers
every confirmation mail (writes of its own), none leaves.
"""
import time

from conftest import free_port, sqlite_only
from pledge_load import LogSampler, PledgeLoad

BOUND_MB = 3
BOUND = BOUND_MB << 20
# Enough pledges that the load writes many times the bound through the log
# (a pledge writes a few pages: the supporter, its indexes, the outbox row).
MIN_PLEDGES = 4000


def loaded_muster(make_muster):
    return make_muster(env={
        "MUSTER_PLEDGE_LIMIT": "0",
        "MUSTER_WAL_LIMIT_MB": str(BOUND_MB),
        "MUSTER_SMTP": f"smtp://127.0.0.1:{free_port()}",
    })


@sqlite_only("samples the size of the database's -wal file; PostgreSQL keeps its own log")
def test_wal_stays_under_its_bound_during_sustained_pledges(make_muster):
    m = loaded_muster(make_muster)
    sampler = LogSampler(m.db_path, interval=0.02).start()
    load = PledgeLoad(m.port, m.slug, "bound", threads=16, seconds=60,
                      max_pledges=MIN_PLEDGES * 3).start()
    # 25 s, or longer on a busy machine until the load has written enough.
    while load.stopping.wait(0.1) is False:
        elapsed = time.monotonic() - load.started
        if elapsed >= 25 and len(load.accepted) >= MIN_PLEDGES:
            break
        if not any(t.is_alive() for t in load.workers):
            break
    load.stop()
    sampler.stop()
    assert load.statuses[202] == len(load.accepted)
    assert set(load.statuses) == {202}, f"not every pledge was accepted: {load.statuses}"
    assert len(load.accepted) >= MIN_PLEDGES, \
        f"only {len(load.accepted)} pledges in 60 s: too few to say anything about the log"
    assert sampler.samples > 100
    assert sampler.max_bytes < BOUND, (
        f"the write-ahead log reached {sampler.max_bytes} bytes, over its bound of {BOUND} "
        f"({len(load.accepted)} pledges, {load.rate():.0f}/s)")
    assert m.stats()["pledges"] == len(load.accepted)


def test_kill_9_under_pledge_load_leaves_a_bounded_log_and_loses_nothing(make_muster):
    m = loaded_muster(make_muster)
    port = m.port
    sampler = LogSampler(m.db_path, interval=0.02).start()
    load = PledgeLoad(port, m.slug, "kill", threads=16, seconds=60).start()
    # Kill once the load has written several times the bound through the log.
    deadline = load.started + 40
    while len(load.accepted) < MIN_PLEDGES and not load.stopping.is_set():
        assert time.monotonic() < deadline, \
            f"only {len(load.accepted)} pledges in 40 s"
        load.stopping.wait(0.1)
    m.kill9()
    left = sampler.size()
    load.stop()
    sampler.stop()
    accepted = list(load.accepted)
    assert sampler.max_bytes < BOUND, \
        f"the write-ahead log reached {sampler.max_bytes} bytes before the kill, bound {BOUND}"
    assert left <= BOUND, f"kill -9 left a write-ahead log of {left} bytes, bound {BOUND}"

    integrity = m.inspect("integrity")
    if integrity["applies"]:
        assert integrity["ok"], integrity["problems"]
    m.start()
    stored = {row["email"] for row in m.export("supporters")}
    lost = [a for a in accepted if a not in stored]
    assert not lost, f"{len(lost)} of {len(accepted)} pledges answered 202 were lost: {lost[:5]}"
    # The restarted server takes pledges again.
    assert m.pledge("after-the-kill@example.org").status == 202
    integrity = m.inspect("integrity")
    if integrity["applies"]:
        assert integrity["ok"], integrity["problems"]
