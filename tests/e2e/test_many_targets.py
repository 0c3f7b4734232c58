"""A campaign of 1,000 targets, the limit: every reader sees all of them.

Targets past 256 used to be stored by `campaign apply` but cut by every
reader (`campaign show`, `stats --json`, the pledge form, the assigner), so a
supporter could never be sent to target 257. One limit (1,000) is enforced at
apply, and each reader is checked here at the far end of the list.
"""
import re

from test_targets_flow import (ENV, campaign, cli_ok, gh, location, pledge_and_confirm, repo_of,
                               stats, targets_of, wait_clicks)

LIMIT = 1000


def many(n, **extra):
    return [gh(f"t{i:04d}", f"org/repo-{i:04d}", **extra) for i in range(n)]


def test_a_campaign_of_1000_targets_is_read_whole_by_every_reader(make_muster):
    m = make_muster(campaign=campaign("many", many(LIMIT), assignment="choose"), env=ENV)

    show = cli_ok(m, "campaign", "show", m.slug)
    listed = re.findall(r"^  (t\d{4}) ", show, re.M)
    assert len(listed) == LIMIT, f"campaign show lists {len(listed)} targets"
    assert listed[-1] == "t0999"

    ts = targets_of(stats(m))
    assert len(ts) == LIMIT
    assert ts["t0999"]["state"] == "open"

    page = m.get(f"/c/{m.slug}")
    assert page.status == 200
    select = re.search(r'<select[^>]*name="target"[^>]*>(.*?)</select>', page.text, re.S)
    assert select, "the pledge form has no target choice"
    offered = [v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v]
    assert len(offered) == LIMIT and offered[-1] == "t0999", offered[-3:]

    # The assigner sends a supporter who picked the last target there.
    path = pledge_and_confirm(m, ["last@example.org"], "Lu", "", target="t0999")
    assert repo_of(location(m.get(path["last@example.org"]))) == "org/repo-0999"
    st = wait_clicks(m, 1)
    assert targets_of(st)["t0999"]["assigned"] == 1


def test_all_mode_action_page_lists_the_1000th_target(make_muster):
    m = make_muster(campaign=campaign("every", many(LIMIT), assignment="all"), env=ENV)
    path = pledge_and_confirm(m, ["all@example.org"], "Al", "")["all@example.org"]
    page = m.get(path)
    assert page.status == 200, page
    assert "github.com/org/repo-0999/issues/new" in page.text
    assert len(set(re.findall(r"github\.com/org/repo-(\d{4})/issues/new", page.text))) == LIMIT


def test_apply_refuses_more_targets_than_the_limit_naming_it(make_muster):
    m = make_muster(campaign=campaign("ok", many(1)), env=ENV, start=False)
    path = m.write_campaign(campaign("toomany", many(LIMIT + 1)), name="toomany.json")
    code, out, err = m.cli("campaign", "apply", path.name)
    assert code == 2, (code, out, err)
    assert "too many targets: 1001, at most 1000" in err, err
    code, out, err = m.cli("campaign", "show", "toomany")
    assert code != 0, "a refused campaign was stored"
