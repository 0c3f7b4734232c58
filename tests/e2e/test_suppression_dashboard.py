"""
test_suppression_dashboard: the suppression list in the dashboard
(docs/DASHBOARD.md, "Suppression list"): the list with every field escaped,
adding and removing through its forms (CSRF, administrators only), and each
campaign's bounce and complaint rates beside the 0.3 % line on its page.
"""
import html
import json
import re

from test_admin import Organizer
from test_bounce import BOUNCE_ADDRESS, bounce
from test_complaint_pause import arf_to
from test_launch_control import import_people

PASSWORD = "correct horse battery staple"


def organizer(m, email, role="admin", grant=None):
    code, out, err = m.cli("organizer", "add", email, "--role", role, input=PASSWORD + "\n")
    assert code == 0, err
    if grant:
        code, out, err = m.cli("campaign", "grant", m.slug, email, grant)
        assert code == 0, err
    org = Organizer(m)
    r = org.login(email=email, password=PASSWORD)
    assert r.status == 303, r
    return org


def listed(m):
    code, out, err = m.cli("suppression", "list", "--json")
    assert code == 0, err
    return {r["address"]: r for r in json.loads(out)}


def rows(page):
    """The list's rows: [(time, kind, campaign, address, reason)] as text."""
    body = re.search(r'<table id="suppression-list">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", td))
                 for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        out.append(tuple(cells))
    return out


def test_the_list_shows_entries_escaped_and_its_forms_add_and_remove(muster):
    code, out, err = muster.cli("suppression", "add", "ann@example.org", "--reason",
                                '<script>alert("x")</script> & more')
    assert code == 0, err
    admin = organizer(muster, "admin@example.org")
    page = admin.get("/admin/suppression")
    assert page.status == 200, page
    assert '<a href="/admin/suppression" aria-current="page">Suppression list</a>' in page.text
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page.text
    [(at, kind, campaign, address, reason)] = rows(page.text)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at), at
    assert (kind, campaign, address) == ("manual", "", "ann@example.org")
    assert reason == '<script>alert("x")</script> & more'
    # the navigation of every dashboard page links to it
    assert 'href="/admin/suppression"' in admin.get("/admin").text

    # add: shown in the page and on the list the senders read
    r = admin.post_form("/admin/suppression", {"address": "Bob@Example.org", "reason": "asked"})
    assert r.status == 200 and "bob@example.org is on the list now" in r.text, r
    assert [(k, a, why) for _, k, _, a, why in rows(r.text)][0] == \
        ("manual", "bob@example.org", "asked")
    assert listed(muster)["bob@example.org"]["reason"] == "asked"
    r = admin.post_form("/admin/suppression", {"address": "not an address"})
    assert r.status == 422 and 'aria-invalid="true"' in r.text, r
    # remove
    r = admin.post_form("/admin/suppression/remove", {"address": "ANN@example.org"})
    assert r.status == 200 and "ann@example.org is off the list" in r.text, r
    assert sorted(listed(muster)) == ["bob@example.org"]
    r = admin.post_form("/admin/suppression/remove", {"address": "ann@example.org"})
    assert "was not on the list" in r.text
    # without the CSRF field: 403, and nothing changed
    for path in ("/admin/suppression", "/admin/suppression/remove"):
        r = admin.post_form(path, {"address": "bob@example.org"}, with_csrf=False)
        assert r.status == 403, (path, r)
    assert sorted(listed(muster)) == ["bob@example.org"]


def test_organizers_without_the_admin_role_get_403(muster):
    muster.cli("suppression", "add", "ann@example.org")
    for email, grant in (("owner@example.org", "owner"), ("viewer@example.org", "viewer")):
        org = organizer(muster, email, role="organizer", grant=grant)
        page = org.get("/admin/suppression")
        assert page.status == 403 and "ann@example.org" not in page.text, page
        r = org.post_form("/admin/suppression", {"address": "eve@example.org"})
        assert r.status == 403, r
        r = org.post_form("/admin/suppression/remove", {"address": "ann@example.org"})
        assert r.status == 403, r
    assert sorted(listed(muster)) == ["ann@example.org"]


def test_the_campaign_page_shows_its_rates_beside_the_line(make_muster, smtp):
    m = make_muster(env={"MUSTER_BOUNCE_ADDRESS": BOUNCE_ADDRESS})
    import_people(m, 4)
    m.launch()
    reminders = smtp.wait_for(4, kind="reminder")
    code, found, err = bounce(m, arf_to(reminders[0].mail_from, reminders[0].rcpt_tos[0]))
    assert code == 0 and found[0]["kind"] == "complaint", (found, err)
    delivery = m.stats()["delivery"]
    assert delivery["complaints"] == 1
    admin = organizer(m, "admin@example.org")
    page = admin.get(f"/admin/campaigns/{m.slug}").text

    def cell(name):
        found = re.search(rf'<td id="delivery-{name}"[^>]*>([^<]*)</td>', page)
        assert found, name
        return found.group(1)
    assert cell("sent") == str(delivery["mails_sent"])
    assert cell("complaints") == "1" and cell("bounces") == "0"
    assert cell("complaint-rate") == f"{100.0 / delivery['mails_sent']:.2f} %"
    assert cell("bounce-rate") == "0.00 %"
    assert cell("complaint-limit") == "0.30 %"
    assert 'data-over="1"' in page and 'id="delivery-over"' in page
