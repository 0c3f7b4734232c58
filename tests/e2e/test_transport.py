"""
test_transport: the SMTP transport against a real SMTP server (aiosmtpd).

Starts a relay on a free 127.0.0.1 port whose answer depends on the
recipient's local part (accept / tempfail: 451 to RCPT / permfail: 550 to the
end of DATA / drop: connection closed at RCPT / slow: RCPT answered after
3 s), runs the C driver build/unit/test_transport_smtp with MUSTER_TEST_SMTP
pointing at it (the driver asserts the statuses and replies), then checks
here that exactly the accepted messages arrived, each once, and that the
batches reused connections.

Run: /usr/bin/python3 -m pytest tests/e2e/test_transport.py
"""
import asyncio
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from smtp_fault import ehlo_responses, free_port

ROOT = Path(__file__).resolve().parents[2]
# MUSTER_TRANSPORT_DRIVER=path runs that driver instead of the built ones.
DRIVERS = (
    [os.environ["MUSTER_TRANSPORT_DRIVER"]]
    if os.environ.get("MUSTER_TRANSPORT_DRIVER")
    else ["build/unit/test_transport_smtp", "build/asan/unit/test_transport_smtp"]
)


class Relay:
    """aiosmtpd handler: answers per recipient, records what it accepted."""

    def __init__(self, pipelining):
        self.lock = threading.Lock()
        self.received = []  # (message_id, mail_from, peer)
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return ehlo_responses(responses, self.pipelining)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("tempfail"):
            return "451 4.3.0 try again later"
        if local.startswith("drop"):
            server.transport.close()
            return "421 4.3.0 closing"
        if local.startswith("slow"):
            await asyncio.sleep(3)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].startswith("permfail") for r in envelope.rcpt_tos):
            return "550 5.7.1 message rejected"
        m = re.search(rb"^Message-ID: <([^>]+)>\r$", envelope.content, re.M | re.I)
        mid = m.group(1).decode() if m else None
        with self.lock:
            self.received.append((mid, envelope.mail_from, session.peer))
        return "250 2.0.0 OK queued"


# muster's own client with a relay announcing PIPELINING and one that does not;
# libcurl (MUSTER_SMTP_CLIENT=curl) with the plain one.
CLIENTS = [("pipelining", True, "auto"), ("plain", False, "auto"), ("curl", False, "curl")]


@pytest.fixture(params=CLIENTS, ids=[c[0] for c in CLIENTS])
def relay(request):
    _, pipelining, client = request.param
    handler = Relay(pipelining)
    handler.client = client
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def driver_path(rel):
    path = ROOT / rel
    if not path.exists() and rel == "build/unit/test_transport_smtp":
        subprocess.run(["make", rel], cwd=ROOT, check=True, capture_output=True)
    if not path.exists():
        pytest.skip(f"{rel} is not built")
    return path


def expected_ids():
    ids = {"single-accept@muster.test", "single-after-fail@muster.test"}
    ids |= {f"reuse-{i}@muster.test" for i in range(5)}
    ids |= {f"batch-{i}@muster.test" for i in range(50)}
    ids |= {f"batch2-{i}@muster.test" for i in range(16)}
    kinds = ["accept", "tempfail", "permfail", "drop", "slow"]
    ids |= {f"mixed-{i}-{kinds[i % 5]}@muster.test" for i in range(20) if i % 5 in (0, 4)}
    return ids


@pytest.mark.parametrize("rel", DRIVERS)
def test_smtp_transport(relay, rel):
    handler, port = relay
    driver = driver_path(rel)
    env = dict(os.environ, MUSTER_TEST_SMTP=f"smtp://127.0.0.1:{port}",
               MUSTER_TEST_SMTP_CLIENT=handler.client)
    proc = subprocess.run([str(driver)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIPPED" not in proc.stdout + proc.stderr

    with handler.lock:
        received = list(handler.received)
    ids = [mid for mid, _, _ in received]
    # exactly the accepted messages, each once
    assert sorted(ids) == sorted(expected_ids())
    assert len(ids) == len(set(ids))

    # 66 batch messages at concurrency 8, over two batches: at most 8 connections
    batch_peers = {peer for _, sender, peer in received if sender == "batch@muster.test"}
    assert sum(1 for _, s, _ in received if s == "batch@muster.test") == 66
    assert 1 <= len(batch_peers) <= 8, batch_peers
    # five sequential sends on one transport: one connection
    reuse_peers = {peer for _, sender, peer in received if sender == "reuse@muster.test"}
    assert len(reuse_peers) == 1, reuse_peers
