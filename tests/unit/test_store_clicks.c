/*
 * test_store_clicks: the click writer's batch (store_record_clicks) on a real
 * SQLite file. A batch of 70 clicks goes in as two 32-row INSERTs and six
 * single rows; every click must come out of the clicks export once, in
 * order, with its target, reroute flag and supporter, and the targets'
 * counters must add up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "campaign/campaign.h"
#include "core/buf.h"
#include "core/token.h"
#include "service/campaigns.h"
#include "service/clicks.h"
#include "service/pledges.h"
#include "store/store.h"
#include "tmp_db.h"

#include "core/banned.h"

#define CAMPAIGN                                                                                   \
    "{\"slug\": \"docs-day\", \"title\": \"T\", "                                                  \
    "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "                       \
    "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"first\", \"kind\": \"bluesky\"}, "  \
    "{\"id\": \"second\", \"kind\": \"bluesky\"}]}"

#define SUPPORTERS 70

struct fixture {
    struct tmp_db db;
    struct store *st;
    int64_t campaign_id;
    int64_t target_ids[2];
    int64_t supporter_ids[SUPPORTERS];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmp_db_make(&f->db, "clicks"), 0);
    char err[256];
    assert_int_equal(store_open(f->db.path, &f->st, err, sizeof err), 0);
    unsigned char secret[TOKEN_SECRET_LEN] = {1};
    assert_int_equal(token_init(secret), 0);

    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(CAMPAIGN, strlen(CAMPAIGN), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    enum apply_result applied;
    assert_int_equal(campaigns_apply(f->st, c, 1000, &applied, err, sizeof err), 0);
    campaign_free(c);
    struct campaign_row row = {0};
    assert_int_equal(store_campaign_get(f->st, "docs-day", &row), 0);
    f->campaign_id = row.id;
    campaign_row_release(&row);

    struct target_list list;
    assert_int_equal(store_targets(f->st, f->campaign_id, &list), 0);
    assert_int_equal(list.count, 2);
    f->target_ids[0] = list.rows[0].id;
    f->target_ids[1] = list.rows[1].id;
    target_list_release(&list);

    for (int i = 0; i < SUPPORTERS; i++) {
        char email[64];
        snprintf(email, sizeof email, "s%02d@example.org", i);
        assert_int_equal(
            pledges_import_in_tx(f->st, f->campaign_id, email, "", "UTC", "yes", 1000, 1000), 0);
    }
    /* A fresh file numbers supporters from 1 in the order they came. */
    for (int i = 0; i < SUPPORTERS; i++) {
        struct supporter s;
        assert_int_equal(store_supporter_by_id(f->st, i + 1, &s), 0);
        char email[64];
        snprintf(email, sizeof email, "s%02d@example.org", i);
        assert_string_equal(s.email, email);
        f->supporter_ids[i] = s.id;
        supporter_release(&s);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    tmp_db_remove(&f->db);
    free(f);
    return 0;
}

struct exported {
    int rows;
    char lines[SUPPORTERS + 1][128];
};

static int collect(void *ctx, const char *const *values, int count)
{
    struct exported *e = ctx;
    assert_int_equal(count, 4);
    assert_true(e->rows < SUPPORTERS + 1);
    snprintf(e->lines[e->rows++], sizeof e->lines[0], "%s|%s|%s", values[1], values[2], values[3]);
    return 0;
}

/* Click i: supporter i, at 2000 + i; every 7th has no target, the others
 * alternate between the two; every 5th is a reroute from the other target. */
static void test_a_batch_of_70_clicks_is_written_once_each_in_order(void **state)
{
    struct fixture *f = *state;
    struct click_record clicks[SUPPORTERS];
    memset(clicks, 0, sizeof clicks);
    for (int i = 0; i < SUPPORTERS; i++) {
        struct click_record *k = &clicks[i];
        k->campaign_id = f->campaign_id;
        k->supporter_id = f->supporter_ids[i];
        k->at = 2000 + i;
        if (i % 7 != 0) {
            k->target_id = f->target_ids[i % 2];
            k->assigned = 1;
            k->rerouted = i % 5 == 0;
            k->previous_target = k->rerouted ? f->target_ids[1 - i % 2] : 0;
        }
    }
    assert_int_equal(clicks_record(f->st, clicks, SUPPORTERS), 0);

    struct exported *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(store_export_clicks(f->st, f->campaign_id, collect, e), 0);
    assert_int_equal(e->rows, SUPPORTERS);
    int64_t clicks_on[2] = {0, 0}, rerouted_from[2] = {0, 0};
    for (int i = 0; i < SUPPORTERS; i++) {
        const char *target = i % 7 == 0 ? "" : i % 2 ? "second" : "first";
        int rerouted = i % 7 != 0 && i % 5 == 0;
        char want[128];
        snprintf(want, sizeof want, "%s|%s|s%02d@example.org", target, rerouted ? "yes" : "no", i);
        assert_string_equal(e->lines[i], want);
        if (i % 7 != 0) {
            clicks_on[i % 2]++;
            rerouted_from[1 - i % 2] += rerouted;
        }
    }
    free(e);

    struct target_list list;
    assert_int_equal(store_targets(f->st, f->campaign_id, &list), 0);
    assert_int_equal(list.count, 2);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(list.rows[t].clicks, clicks_on[t]);
        assert_int_equal(list.rows[t].rerouted, rerouted_from[t]);
        assert_int_equal(list.rows[t].assigned, clicks_on[t] - rerouted_from[t]);
    }
    target_list_release(&list);
}

/* A batch smaller than one multi-row INSERT takes the single-row statement
 * only; a batch of exactly 32 takes the multi-row one only. */
static void test_batches_of_1_and_32_are_written(void **state)
{
    struct fixture *f = *state;
    struct click_record clicks[33];
    memset(clicks, 0, sizeof clicks);
    for (int i = 0; i < 33; i++) {
        clicks[i].campaign_id = f->campaign_id;
        clicks[i].supporter_id = f->supporter_ids[i];
        clicks[i].target_id = f->target_ids[0];
        clicks[i].at = 3000 + i;
    }
    assert_int_equal(clicks_record(f->st, clicks, 1), 0);
    assert_int_equal(clicks_record(f->st, clicks + 1, 32), 0);
    struct exported *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(store_export_clicks(f->st, f->campaign_id, collect, e), 0);
    assert_int_equal(e->rows, 33);
    for (int i = 0; i < 33; i++) {
        char want[128];
        snprintf(want, sizeof want, "first|no|s%02d@example.org", i);
        assert_string_equal(e->lines[i], want);
    }
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_batch_of_70_clicks_is_written_once_each_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_of_1_and_32_are_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
