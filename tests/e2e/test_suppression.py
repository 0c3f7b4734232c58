"""The suppression list (docs/DELIVERABILITY.md, "Bounces, complaints and the
suppression list"): `muster suppression list|add|remove`, no mail of any kind to a
suppressed address in any campaign while everyone else gets theirs, a pledge from it
answered exactly like any other, erasure that keeps the suppression but not the address,
the campaign's bounce and complaint rates in `stats` and on the dashboard."""
import json
import re
import time

from conftest import make_campaign


def suppression(m, *args):
    code, out, err = m.cli("suppression", *args)
    return code, out, err


def listed(m):
    code, out, err = suppression(m, "list", "--json")
    assert code == 0, err
    return json.loads(out)


def add(m, addr, *extra):
    code, out, err = suppression(m, "add", addr, *extra)
    assert code == 0, f"suppression add {addr}: {code} {out}{err}"
    return out


def outbox_states(m, addr):
    return sorted((row["kind"], row["state"]) for row in m.inspect("outbox", "--email", addr))


def test_cli_adds_lists_and_removes_with_reasons_shown_safely(muster):
    out = add(muster, "Ann@Example.org", "--reason", "asked by phone \x1b[2J\u202e")
    assert "suppressed ann@example.org" in out
    out = add(muster, "ann@example.org")
    assert "already suppressed" in out
    add(muster, "bob@example.org")
    rows = listed(muster)
    assert [r["address"] for r in rows] == ["bob@example.org", "ann@example.org"] or \
        sorted(r["address"] for r in rows) == ["ann@example.org", "bob@example.org"]
    ann = next(r for r in rows if r["address"] == "ann@example.org")
    assert ann["kind"] == "manual"
    assert ann["campaign"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ann["at"])
    assert abs(ann["at_unix"] - time.time()) < 60
    # the terminal escape is stored as a space, the bidi override kept as text
    assert "\x1b" not in ann["reason"]
    assert ann["reason"].startswith("asked by phone")

    code, out, err = suppression(muster, "list")
    assert code == 0, err
    assert out.splitlines()[0].startswith("2 suppressed addresses")
    line = next(l for l in out.splitlines() if "ann@example.org" in l)
    assert "manual" in line and "asked by phone" in line
    # no control or bidi character reaches the terminal
    assert "\x1b" not in out and "\u202e" not in out

    code, out, err = suppression(muster, "remove", "ANN@example.org")
    assert code == 0, err
    assert [r["address"] for r in listed(muster)] == ["bob@example.org"]
    code, out, err = suppression(muster, "remove", "ann@example.org")
    assert code == 2 and "not on the suppression list" in err
    for bad in ["nobody", "a b@example.org", "x@@", "<>"]:
        code, out, err = suppression(muster, "add", bad)
        assert code == 2 and "not a valid email address" in err, (bad, err)
    code, out, err = suppression(muster, "frobnicate")
    assert code == 2 and "usage" in err
    assert [r["address"] for r in listed(muster)] == ["bob@example.org"]


def test_a_suppressed_address_gets_no_mail_of_any_kind_in_any_campaign(make_muster, smtp):
    m = make_muster()
    other = make_campaign({"slug": "second-day", "title": "Second day"})
    code, out, err = m.apply(other, name="second.json")
    assert code == 0, err

    # confirmed in both campaigns before being suppressed: welcome mails came
    m.confirm_supporter("late@example.org")
    r = m.pledge("late@example.org", slug="second-day")
    assert r.status == 202
    smtp.wait_for(2, to="late@example.org", kind="confirm")
    # pledged but not yet confirmed in the second campaign when suppressed
    add(m, "Late@example.org")
    add(m, "early@example.org")

    # a suppressed address pledging: no confirmation mail (first campaign)
    r = m.pledge("early@example.org")
    assert r.status == 202
    # the others keep getting theirs, in both campaigns
    m.confirm_supporter("ok@example.org")
    r = m.pledge("ok2@example.org", slug="second-day")
    assert r.status == 202
    smtp.wait_one("ok2@example.org", "confirm")

    # following the second campaign's confirmation link mailed before the
    # suppression: confirmed, but the welcome mail is not sent
    second_links = [c.link("/confirm/") for c in smtp.select("late@example.org", "confirm")]
    assert len(second_links) == 2
    for link in second_links:
        path = link.split(m.base_url, 1)[1]
        r = m.post(path)
        assert r.status == 200

    # reminders: the launch of each campaign
    m.launch()
    code, out, err = m.cli("launch", "second-day", timeout=60)
    assert code == 0, err
    smtp.wait_one("ok@example.org", "reminder")
    assert "suppressed 1" in out, out
    smtp.settle(1.5)

    late = smtp.select("late@example.org")
    assert sorted(x.kind() for x in late) == ["confirm", "confirm", "welcome"], late
    assert smtp.select("early@example.org") == []
    # every mail owed to them is settled as suppressed, none is pending
    states = outbox_states(m, "late@example.org")
    assert ("reminder", "suppressed") in states, states
    assert ("welcome", "suppressed") in states, states
    assert all(s in ("sent", "suppressed") for _, s in states), states
    assert outbox_states(m, "early@example.org") == [("confirm", "suppressed")]
    row = m.inspect("outbox", "--email", "early@example.org")[0]
    assert "suppression list" in row["last_reply"]
    assert smtp.select("ok@example.org", "welcome")
    # the stats count them
    stats = m.stats()
    # per campaign: early's confirmation and late's reminder here; late's
    # welcome and reminder in the second campaign
    assert stats["delivery"]["mails_suppressed"] == 2, stats
    assert stats["reminders"]["sent"] == 1
    code, out, err = m.cli("stats", "second-day", "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["delivery"]["mails_suppressed"] == 2, second
    assert second["reminders"]["sent"] == 0


def test_a_pledge_from_a_suppressed_address_is_answered_like_any_other(muster, smtp):
    add(muster, "hidden@example.org")

    def answer(addr):
        r = muster.pledge(addr, name="N", statement="S")
        headers = {k.lower(): v for k, v in r.headers.items() if k.lower() != "date"}
        return r.status, headers, r.body

    for i in range(3):
        a = answer(f"fresh{i}@example.org")
        b = answer("hidden@example.org" if i == 0 else f"HIDDEN+{i}@example.org")
        assert a == b
    # the same for a form submission is covered by the same handler; both were stored
    assert muster.supporter("hidden@example.org")["status"] == "pending"
    smtp.wait_one("fresh0@example.org", "confirm")
    smtp.settle(1.0)
    assert smtp.select("hidden@example.org") == []


def test_erase_forgets_the_address_and_keeps_the_suppression(muster, smtp):
    add(muster, "gone@example.org", "--reason", "complained by phone")
    r = muster.pledge("gone@example.org")
    assert r.status == 202
    code, out, err = muster.cli("supporter", "erase", "gone@example.org")
    assert code == 0, err
    rows = listed(muster)
    assert len(rows) == 1
    assert rows[0]["address"] is None
    assert rows[0]["reason"] == "complained by phone"
    code, out, err = suppression(muster, "list")
    assert "(erased)" in out and "gone@example.org" not in out
    # the address pledges again: still suppressed
    r = muster.pledge("gone@example.org")
    assert r.status == 202
    r = muster.pledge("kept@example.org")
    smtp.wait_one("kept@example.org", "confirm")
    smtp.settle(1.0)
    assert smtp.select("gone@example.org") == []
    # and an organizer can still take it off by its address
    code, out, err = suppression(muster, "remove", "gone@example.org")
    assert code == 0, err
    assert listed(muster) == []
