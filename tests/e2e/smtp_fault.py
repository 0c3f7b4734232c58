"""
smtp_fault: a misbehaving SMTP relay for the dispatch tests (aiosmtpd in a
thread, 127.0.0.1 only).

What it does to each message is chosen per recipient (a plan: one action per
attempt, the last one repeating) or for every message (the default action):

    accept()                   250 to everything
    at_mail(reply)             REPLY to MAIL FROM (the recipient is not known yet,
                               so only as the default: "421 to everything")
    at_rcpt(reply)             REPLY to RCPT TO
    at_data(reply)             REPLY to the final dot
    drop_after_data(kept)      read the whole message, then abort the connection
                               without a reply; kept=True queues the message first
                               (the relay accepted it; the sender cannot know)
    slow_reply(seconds)        wait before the 250 to the final dot

`max_per_connection=K` answers the MAIL FROM after K accepted messages on one
connection with 421 and closes it; `close_idle_after=S` closes a connection that saw
no new MAIL FROM S seconds after its last accepted message (an idle timeout).
`pipelining=True` (the default) announces PIPELINING (RFC 2920) in the EHLO reply,
as Postfix does, so muster's client sends each message's commands together;
`pipelining=False` makes it wait for each reply. `rcpt_delay=(lo, hi)` slows every RCPT reply by a random time in [lo, hi] s, so a
launch is slow enough to be killed in the middle without faking the final reply.

Every message the relay accepted (the 250 to the final dot, or drop_after_data
with kept=True) is a Delivery with its recipient and Message-ID; every attempt is
an Attempt with the time, the stage and the reply. `epoch` is a number the test
sets (e.g. the launch process currently running); each Delivery records it.
"""
import asyncio
import email
import email.policy
import random
import socket
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Action:
    stage: str = "accept"   # accept | mail | rcpt | data | drop | slow
    reply: str = ""
    delay: float = 0.0
    kept: bool = False


def accept():
    return Action("accept")


def at_mail(reply):
    return Action("mail", reply)


def at_rcpt(reply):
    return Action("rcpt", reply)


def at_data(reply):
    return Action("data", reply)


def drop_after_data(kept=False):
    return Action("drop", kept=kept)


def slow_reply(seconds):
    return Action("slow", delay=seconds)


@dataclass
class Delivery:
    rcpt: str
    message_id: str
    mail_from: str
    at: float          # time.time()
    epoch: int
    peer: tuple
    raw: bytes = field(repr=False, default=b"")

    @property
    def kind(self):
        return (self.message_id or "").split(".", 1)[0]


@dataclass
class Attempt:
    rcpt: str          # None for a refusal at MAIL FROM
    stage: str
    reply: str
    at: float          # time.time()


def message_id_of(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    mid = msg.get("Message-ID")
    if mid is None:
        return None
    mid = "".join(str(mid).split())
    return mid[1:-1] if mid.startswith("<") and mid.endswith(">") else mid


class FaultRelay:
    """The aiosmtpd handler. Use through FaultServer (a context manager)."""

    def __init__(self, default=None, rcpt_delay=(0.0, 0.0), seed=None, pipelining=True):
        self.cond = threading.Condition()
        self.pipelining = pipelining
        self.deliveries = []
        self.attempts = []
        self.plans = {}
        self.default = default or accept()
        self.rcpt_delay = rcpt_delay
        self.epoch = 0
        self.rng = random.Random(seed)
        # a relay that takes at most this many messages per connection: the next
        # MAIL FROM gets 421 and the connection closes (None: no limit)
        self.max_per_connection = None
        # close a connection this long after an accepted message if no new MAIL FROM
        # came (an idle timeout; None: keep it)
        self.close_idle_after = None

    # configuration -----------------------------------------------------------
    def plan(self, rcpt, *actions):
        """Actions for the 1st, 2nd, ... attempt to rcpt; the last one repeats."""
        with self.cond:
            self.plans[rcpt.lower()] = [list(actions), 0]

    def _next_action(self, rcpt):
        p = self.plans.get(rcpt.lower())
        if not p:
            return self.default
        actions, used = p
        p[1] = used + 1
        return actions[min(used, len(actions) - 1)]

    # records -----------------------------------------------------------------
    def _attempt(self, rcpt, stage, reply):
        with self.cond:
            self.attempts.append(Attempt(rcpt, stage, reply, time.time()))
            self.cond.notify_all()

    def _deliver(self, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mid = message_id_of(raw)
        with self.cond:
            for rcpt in envelope.rcpt_tos:
                self.deliveries.append(Delivery(rcpt.lower(), mid, envelope.mail_from,
                                                time.time(), self.epoch, session.peer, raw))
            self.cond.notify_all()

    def delivered(self, kind=None, rcpt=None):
        with self.cond:
            out = list(self.deliveries)
        return [d for d in out if (kind is None or d.kind == kind)
                and (rcpt is None or d.rcpt == rcpt.lower())]

    def attempts_for(self, rcpt):
        with self.cond:
            return [a for a in self.attempts if a.rcpt == rcpt.lower()]

    def wait(self, predicate, timeout, what="condition"):
        """Waits (bounded) until predicate() is true; returns its value or raises."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
                self.cond.wait(min(left, 0.05))

    # aiosmtpd hooks ------------------------------------------------------------
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return ehlo_responses(responses, self.pipelining)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        session.fault_mails = getattr(session, "fault_mails", 0) + 1
        if (self.max_per_connection is not None
                and getattr(session, "fault_accepted", 0) >= self.max_per_connection):
            reply = "421 4.7.0 muster-test: too many messages on this connection"
            self._attempt(None, "mail", reply)
            asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        if self.default.stage == "mail":
            self._attempt(None, "mail", self.default.reply)
            return self.default.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        lo, hi = self.rcpt_delay
        if hi > 0:
            await asyncio.sleep(self.rng.uniform(lo, hi))
        with self.cond:
            action = self._next_action(address)
        if action.stage == "rcpt":
            self._attempt(address.lower(), "rcpt", action.reply)
            return action.reply
        if not hasattr(envelope, "fault_actions"):
            envelope.fault_actions = {}
        envelope.fault_actions[address.lower()] = action
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        actions = getattr(envelope, "fault_actions", {})
        action = next(iter(actions.values()), self.default)
        rcpt = envelope.rcpt_tos[0].lower() if envelope.rcpt_tos else None
        if action.stage == "data":
            self._attempt(rcpt, "data", action.reply)
            return action.reply
        if action.stage == "drop":
            if action.kept:
                self._deliver(session, envelope)
            self._attempt(rcpt, "data", "(connection dropped)")
            server.transport.abort()
            return "421 4.4.2 connection dropped"  # never reaches the client
        if action.stage == "slow":
            await asyncio.sleep(action.delay)
        self._deliver(session, envelope)
        self._attempt(rcpt, "data", "250")
        session.fault_accepted = getattr(session, "fault_accepted", 0) + 1
        if self.close_idle_after is not None:
            mails = getattr(session, "fault_mails", 0)

            def close_if_idle():
                if getattr(session, "fault_mails", 0) == mails:
                    server.transport.close()
            asyncio.get_running_loop().call_later(self.close_idle_after, close_if_idle)
        return "250 2.0.0 OK queued"


def ehlo_responses(responses, pipelining):
    """aiosmtpd's EHLO lines, with PIPELINING announced before the last when asked."""
    if pipelining:
        responses.insert(len(responses) - 1, "250-PIPELINING")
    return responses


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FaultServer:
    """with FaultServer(FaultRelay(...)) as srv: srv.url, srv.relay"""

    def __init__(self, relay):
        self.relay = relay
        self.controller = None

    def __enter__(self):
        self.controller = Controller(self.relay, hostname="127.0.0.1", port=free_port(),
                                     ready_timeout=10)
        self.controller.start()
        self.port = self.controller.port
        self.url = f"smtp://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc):
        self.controller.stop()
        return False
