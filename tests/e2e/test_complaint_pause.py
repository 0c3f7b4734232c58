"""
test_complaint_pause: the launch pauses itself when complaints cross the
0.3 % line (docs/DELIVERABILITY.md, "The complaint guard"). Complaints arrive
as ARF reports (RFC 5965) carrying the reminder's own return path (VERP),
through `muster bounce`, as a feedback loop delivers them; the pause is read
from `muster stats --json`.
"""
import re

from test_bounce import BOUNCE_ADDRESS, bounce
from test_launch_control import import_people

MIN_MAILS = 1000  # SUPPRESSION_PAUSE_MIN_MAILS


def arf_to(return_path, recipient):
    """A feedback-loop complaint about the message sent with return_path."""
    return (
        f"From: <fbl@isp.example>\r\nTo: <{return_path}>\r\nSubject: complaint\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\r\n\r\n"
        f"--B\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n"
        f"--B\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
        f"User-Agent: FBL/1.0\r\nVersion: 1\r\nOriginal-Mail-From: <{return_path}>\r\n"
        f"Original-Rcpt-To: <{recipient}>\r\n\r\n"
        f"--B\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <{return_path}>\r\n"
        f"From: muster@example.org\r\nTo: {recipient}\r\nSubject: reminder\r\n\r\nhi\r\n--B--\r\n"
    ).encode()


def complain(m, reminder):
    code, found, err = bounce(m, arf_to(reminder.mail_from, reminder.rcpt_tos[0]))
    assert code == 0, err
    assert [(f["kind"], f["by"]) for f in found] == [("complaint", "return-path")], found
    complain.stderr = err
    return found[0]["result"]


def launch_state(m):
    return m.stats()["launch"]


def test_complaints_over_the_line_pause_the_launch_and_a_resume_is_respected(make_muster, smtp):
    m = make_muster(env={"MUSTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS}, start=False)
    addrs = import_people(m, MIN_MAILS)
    m.launch(timeout=300)
    reminders = smtp.wait_for(MIN_MAILS, kind="reminder", timeout=120)
    by_addr = {r.rcpt_tos[0]: r for r in reminders}
    assert sorted(by_addr) == sorted(addrs)
    sent = m.stats()["delivery"]["mails_sent"]
    assert sent >= MIN_MAILS
    # 0.3 % of 1,000 is on the line, not over it: three complaints pause nothing.
    limit = int(sent * 0.003)
    for a in addrs[:limit]:
        complain(m, by_addr[a])
    assert launch_state(m)["paused"] is False, launch_state(m)
    # one more is over the line: the launch pauses itself, saying why
    complain(m, by_addr[addrs[limit]])
    state = launch_state(m)
    rate = (limit + 1) * 100.0 / sent
    assert state["paused"] is True, state
    assert state["paused_by"] == "muster", state
    assert state["paused_reason"] == \
        f"complaints {rate:.1f} % of {sent} mails, over the 0.3 % line", state
    # said at error level by the process that paused it
    assert re.search(r"level=error event=launch\.paused .*by=muster", complain.stderr), \
        complain.stderr
    # an organizer resumes: the same complaint again (its address is listed
    # already) does not pause it again ...
    code, out, err = m.cli("launch", m.slug, "--resume")
    assert code == 0 and "resumed" in out, (code, out, err)
    assert complain(m, by_addr[addrs[limit]]) == "suppressed"
    assert launch_state(m)["paused"] is False, launch_state(m)
    # ... a later complaint, still over the line, does
    complain(m, by_addr[addrs[limit + 1]])
    state = launch_state(m)
    assert state["paused"] is True and state["paused_by"] == "muster", state
    assert re.fullmatch(r"complaints \d+\.\d % of \d+ mails, over the 0\.3 % line",
                        state["paused_reason"]), state


def test_below_the_minimum_of_mails_one_complaint_pauses_nothing(make_muster, smtp):
    m = make_muster(env={"MUSTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS}, start=False)
    import_people(m, 3)
    m.launch()
    reminders = smtp.wait_for(3, kind="reminder")
    complain(m, reminders[0])
    stats = m.stats()
    assert stats["delivery"]["complaints"] == 1 and stats["delivery"]["complaints_over_limit"]
    assert stats["launch"]["paused"] is False, stats["launch"]
