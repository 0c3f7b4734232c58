/*
 * admin_private: what the dashboard's files share: the organizer's page frame
 * (its own stylesheet and script, a top bar with the navigation), loading the
 * campaign a route names, and the series behind the charts. Only the files
 * pages/admin*.c and pages/login.c include this.
 */
#ifndef MUSTER_PAGES_ADMIN_PRIVATE_H
#define MUSTER_PAGES_ADMIN_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/token.h"
#include "http/http.h"
#include "store/store.h"

struct campaign;

/* ---- admin.c: the frame ---- */
enum admin_section { ADMIN_NONE, ADMIN_CAMPAIGNS, ADMIN_NEW, ADMIN_ERASE, ADMIN_SUPPRESSION };

/* Opens an organizer page: head with admin.css and admin.js, the top bar
 * (with navigation and a logout button when csrf is not NULL), <main>. */
void admin_page_begin(struct buf *b, const char *title, const char *csrf,
                      enum admin_section active);
void admin_page_end(struct buf *b);
/* A page with a heading and one paragraph, in the organizer's frame. */
void admin_message_page(struct http_request *req, struct http_response *resp, int status,
                        const char *title, const char *message);
/* Loads the campaign named by req->params[0] (cache: valid until the next
 * cache call on this thread). Returns 0, or answers 404/500 and returns -1. */
int admin_campaign_load(struct http_request *req, struct http_response *resp,
                        struct campaign_row *row, const struct campaign **c);
/* "12,345" */
void admin_count(struct buf *b, int64_t n);
/* A time as wall time in tz, e.g. "Saturday, December 5, 2026, 10:00 EST". */
void admin_when(struct buf *b, int64_t t, const char *tz);

/* ---- admin_launch.c: the launch-day controls ---- */
/* The campaign page's "Launch day" card: the launch's state, and the pause,
 * resume and test forms for those who may use them. */
void admin_launch_section(struct buf *b, struct http_request *req, const struct campaign_row *row,
                          const char *timezone, const char *csrf);

/* ---- admin_suppression.c: deliverability ---- */
/* The campaign page's "Delivery" card: mails sent, bounce and complaint
 * counts and rates beside the 0.3 % line (service/suppression.h). */
void admin_delivery_section(struct buf *b, struct http_request *req,
                            const struct campaign_row *row);

/* ---- admin_charts.c: the series and the SVG charts ---- */

struct admin_range {
    int64_t start;  /* the first bucket's start, Unix seconds */
    int64_t bucket; /* seconds per point */
    size_t n;       /* points; 0: nothing to show yet */
};

struct admin_series {
    int64_t now;
    struct admin_range pledging; /* from the first pledge to now */
    int64_t *pledged;            /* cumulative, pledging.n points */
    int64_t *confirmed;          /* cumulative */
    struct admin_range launch;   /* from the launch moment (or first activity) to now */
    int64_t *sent;               /* reminders sent, cumulative, launch.n points */
    size_t ntargets;
    char (*target_keys)[65];
    int64_t *clicks; /* per bucket: clicks[t * launch.n + i] */
};

int admin_series_load(struct store *st, const struct campaign_row *row, int64_t now,
                      struct admin_series *out);
void admin_series_release(struct admin_series *s);

/* The live region of the launch-day view: the reminder progress and the two
 * charts, each with a data table. Served whole at /admin/campaigns/SLUG/charts
 * so admin.js can swap it in. Returns 0 or -1 (store failure). */
int admin_charts_html(struct buf *b, struct store *st, const struct campaign_row *row,
                      const struct campaign *c, int64_t now);

#endif
