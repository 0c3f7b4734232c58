/*
 * test_assign: the assignment rules of src/campaign/assign.c as a table of
 * situations: balanced picks the fewest assignments under cap (ties to file
 * order), sticky while open, choose honours the pick when it has room,
 * reroutes follow the fallback order after the closed target and then any
 * open target, nobody is assigned when nothing has room or under "all".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/assign.h"
#include "campaign/campaign.h"

static struct assign_target T(int64_t id, const char *key, int open, long cap, int64_t assigned)
{
    struct assign_target t;
    memset(&t, 0, sizeof t);
    t.id = id;
    snprintf(t.key, sizeof t.key, "%s", key);
    t.open = open;
    t.cap = cap;
    t.assigned = assigned;
    return t;
}

static char *fallback_abc[] = {"c", "a", "b"};

static struct campaign make(enum assignment_mode mode)
{
    struct campaign c;
    memset(&c, 0, sizeof c);
    c.assignment = mode;
    c.fallback.items = fallback_abc;
    c.fallback.count = 3;
    return c;
}

static void test_balanced_picks_fewest_under_cap_ties_to_file_order(void **state)
{
    (void)state;
    struct campaign c = make(ASSIGN_BALANCED);
    struct assign_target ts[] = {T(1, "a", 1, -1, 3), T(2, "b", 1, -1, 2), T(3, "c", 1, -1, 2)};
    struct assign_choice r = assign_pick(&c, ts, 3, -1, NULL);
    assert_int_equal(r.index, 1);
    assert_true(r.changed);
    assert_false(r.rerouted);
    ts[1].cap = 2; /* b is full: c has as few and room */
    r = assign_pick(&c, ts, 3, -1, NULL);
    assert_int_equal(r.index, 2);
}

static void test_sticky_while_open_even_when_full(void **state)
{
    (void)state;
    struct campaign c = make(ASSIGN_BALANCED);
    struct assign_target ts[] = {T(1, "a", 1, 5, 5), T(2, "b", 1, -1, 0)};
    struct assign_choice r = assign_pick(&c, ts, 2, 0, NULL);
    assert_int_equal(r.index, 0);
    assert_false(r.changed);
}

static void test_choose_honours_the_pick_with_room(void **state)
{
    (void)state;
    struct campaign c = make(ASSIGN_CHOOSE);
    struct assign_target ts[] = {T(1, "a", 1, -1, 0), T(2, "b", 1, -1, 9)};
    assert_int_equal(assign_pick(&c, ts, 2, -1, "b").index, 1);
    ts[1].open = 0; /* closed: the fallback after b is c (missing), then a */
    assert_int_equal(assign_pick(&c, ts, 2, -1, "b").index, 0);
}

static void test_reroute_follows_fallback_after_the_closed_target(void **state)
{
    (void)state;
    struct campaign c = make(ASSIGN_BALANCED); /* fallback c, a, b */
    struct assign_target ts[] = {T(1, "a", 0, -1, 4), T(2, "b", 1, -1, 9), T(3, "c", 1, -1, 0)};
    struct assign_choice r = assign_pick(&c, ts, 3, 0, NULL); /* a closed: next after a is b */
    assert_int_equal(r.index, 1);
    assert_true(r.rerouted);
    assert_true(r.changed);
    ts[1].cap = 9; /* b full: wraps to c */
    assert_int_equal(assign_pick(&c, ts, 3, 0, NULL).index, 2);
}

static void test_nobody_assigned_without_room_or_under_all(void **state)
{
    (void)state;
    struct campaign c = make(ASSIGN_BALANCED);
    struct assign_target ts[] = {T(1, "a", 0, -1, 0), T(2, "b", 1, 1, 1)};
    struct assign_choice r = assign_pick(&c, ts, 2, -1, NULL);
    assert_int_equal(r.index, -1);
    assert_false(r.changed);
    r = assign_pick(&c, ts, 2, 0, NULL);
    assert_int_equal(r.index, -1);
    assert_true(r.rerouted);
    struct campaign all = make(ASSIGN_ALL);
    ts[0].open = 1;
    r = assign_pick(&all, ts, 2, -1, NULL);
    assert_int_equal(r.index, -1);
    assert_false(r.changed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_picks_fewest_under_cap_ties_to_file_order),
        cmocka_unit_test(test_sticky_while_open_even_when_full),
        cmocka_unit_test(test_choose_honours_the_pick_with_room),
        cmocka_unit_test(test_reroute_follows_fallback_after_the_closed_target),
        cmocka_unit_test(test_nobody_assigned_without_room_or_under_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
