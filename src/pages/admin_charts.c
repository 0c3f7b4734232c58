/*
 * admin_charts: the launch-day view's live region, drawn on the server as
 * SVG (docs/DASHBOARD.md says why): reminder progress, pledges and
 * confirmations over time (cumulative), and clicks per target over time (per
 * bucket). Each chart is an <svg role="img"> with <title> and <desc>, a
 * legend in HTML, and the same numbers as a table. GET
 * /admin/campaigns/SLUG/charts serves the region alone for admin.js to swap
 * in; GET /api/v1/campaigns/SLUG/timeseries serves the series as JSON.
 *
 * A series has at most MAX_POINTS points: one per minute while that fits,
 * else per 5, 15, 30 minutes, hour, ... (choose_range).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/cache.h"
#include "campaign/campaign.h"
#include "service/launches.h"
#include "core/escape.h"
#include "core/tz.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "pages/pages.h"
#include "store/store.h"
#include "store/store_dashboard.h"
#include "core/banned.h"

#define MAX_POINTS 180

/* Chart geometry in SVG user units; the SVG scales to its box. */
#define CW 640
#define CH 250
#define CL 62 /* left margin: y labels */
#define CR 18
#define CT 16
#define CB 36 /* bottom margin: x labels */

/* ---- the series ---- */

static void choose_range(int64_t first, int64_t last, struct admin_range *r)
{
    static const int64_t steps[] = {60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 604800};
    if (last < first)
        last = first;
    int64_t bucket = 0, start = 0, n = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        bucket = steps[i];
        start = first - first % bucket;
        n = (last - start) / bucket + 1;
        if (n <= MAX_POINTS)
            break;
    }
    if (n > MAX_POINTS) { /* more than 180 weeks: stretch the buckets */
        bucket = (last - first) / (MAX_POINTS - 1) + 1;
        start = first;
        n = (last - start) / bucket + 1;
    }
    if (n < 2)
        n = 2; /* a line needs two points */
    r->start = start;
    r->bucket = bucket;
    r->n = (size_t)n;
}

void admin_series_release(struct admin_series *s)
{
    free(s->pledged);
    free(s->confirmed);
    free(s->sent);
    free(s->target_keys);
    free(s->clicks);
    memset(s, 0, sizeof *s);
}

static void cumulate(int64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        v[i] += v[i - 1];
}

int admin_series_load(struct store *st, const struct campaign_row *row, int64_t now,
                      struct admin_series *out)
{
    struct admin_series s;
    memset(&s, 0, sizeof s);
    s.now = now;
    int64_t first_pledge = 0, first_activity = 0, last_activity = 0;
    if (store_dashboard_bounds(st, row->id, &first_pledge, &first_activity, &last_activity) != 0)
        return -1;
    if (first_pledge) {
        choose_range(first_pledge, now, &s.pledging);
        /* One empty bucket first, so the cumulative lines rise from zero. */
        s.pledging.start -= s.pledging.bucket;
        s.pledging.n++;
    }

    /* The launch chart starts at the launch moment (or earlier activity) and
     * runs to now while the window is open, then to the window's end or the
     * last click, so a finished day keeps its per-minute detail. */
    int64_t lstart = row->launch_utc <= now ? row->launch_utc : 0;
    if (first_activity && (!lstart || first_activity < lstart))
        lstart = first_activity;
    if (lstart) {
        int64_t window_end = row->launch_utc + (int64_t)row->window_minutes * 60;
        int64_t lend = now < window_end ? now : window_end;
        if (last_activity > lend)
            lend = last_activity;
        if (lend > now)
            lend = now;
        choose_range(lstart, lend, &s.launch);
    }

    struct target_list list;
    if (store_targets(st, row->id, &list) != 0)
        return -1;
    const struct target_row *targets = list.rows;
    size_t nt = list.count;
    int64_t *ids = calloc(nt ? nt : 1, sizeof *ids);
    if (!ids) {
        target_list_release(&list);
        return -1;
    }
    size_t pn = s.pledging.n ? s.pledging.n : 1, ln = s.launch.n ? s.launch.n : 1;
    s.pledged = calloc(pn, sizeof *s.pledged);
    s.confirmed = calloc(pn, sizeof *s.confirmed);
    s.sent = calloc(ln, sizeof *s.sent);
    s.target_keys = calloc(nt ? nt : 1, sizeof *s.target_keys);
    s.clicks = calloc((nt ? nt : 1) * ln, sizeof *s.clicks);
    if (!s.pledged || !s.confirmed || !s.sent || !s.target_keys || !s.clicks)
        goto fail;
    for (size_t i = 0; i < nt; i++) {
        if (targets[i].removed)
            continue;
        ids[s.ntargets] = targets[i].id;
        snprintf(s.target_keys[s.ntargets], sizeof s.target_keys[0], "%s", targets[i].key);
        s.ntargets++;
    }
    if (s.pledging.n) {
        if (store_dashboard_pledges(st, row->id, s.pledging.start, s.pledging.bucket, s.pledging.n,
                                    s.pledged, s.confirmed) != 0)
            goto fail;
        cumulate(s.pledged, s.pledging.n);
        cumulate(s.confirmed, s.pledging.n);
    }
    if (s.launch.n) {
        if (store_dashboard_reminders_sent(st, row->id, s.launch.start, s.launch.bucket, s.launch.n,
                                           s.sent) != 0 ||
            store_dashboard_clicks(st, row->id, s.launch.start, s.launch.bucket, s.launch.n, ids,
                                   s.ntargets, s.clicks) != 0)
            goto fail;
        cumulate(s.sent, s.launch.n);
    }
    *out = s;
    free(ids);
    target_list_release(&list);
    return 0;
fail:
    free(ids);
    target_list_release(&list);
    admin_series_release(&s);
    return -1;
}

/* ---- time labels ---- */

/* Seconds east of UTC in tz at t. tz.h converts only local -> UTC, so read
 * t's UTC wall time as if it were local in tz: the difference is the offset.
 * Computed once per chart; a chart across a DST change is off by the change
 * after it, which is fine for axis labels. */
static int64_t utc_offset(int64_t t, const char *tz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char wall[32];
    strftime(wall, sizeof wall, "%Y-%m-%dT%H:%M:%S", &tm);
    int64_t u;
    if (tz_local_to_utc(wall, tz, &u) != 0)
        return 0;
    return t - u;
}

enum label_style { LABEL_TIME, LABEL_DAY, LABEL_DAY_TIME };

static void time_label(struct buf *b, int64_t t, int64_t offset, enum label_style style)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)(t + offset);
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (style == LABEL_TIME)
        buf_printf(b, "%02d:%02d", tm.tm_hour, tm.tm_min);
    else if (style == LABEL_DAY)
        buf_printf(b, "%s %d", months[tm.tm_mon], tm.tm_mday);
    else
        buf_printf(b, "%s %d, %02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static void bucket_words(struct buf *b, int64_t bucket)
{
    if (bucket == 60)
        buf_puts(b, "minute");
    else if (bucket == 3600)
        buf_puts(b, "hour");
    else if (bucket == 86400)
        buf_puts(b, "day");
    else if (bucket == 604800)
        buf_puts(b, "week");
    else if (bucket % 3600 == 0)
        buf_printf(b, "%lld hours", (long long)(bucket / 3600));
    else if (bucket % 60 == 0)
        buf_printf(b, "%lld minutes", (long long)(bucket / 60));
    else
        buf_printf(b, "%lld seconds", (long long)bucket);
}

/* ---- one chart ---- */

struct line {
    const char *label;
    const int64_t *values; /* range->n of them */
    size_t color;          /* s0..s7 in admin.css */
};

static int64_t nice_step(int64_t max)
{
    if (max < 4)
        return 1;
    int64_t raw = (max + 3) / 4, mag = 1;
    while (mag <= raw / 10)
        mag *= 10;
    static const int64_t mult[] = {1, 2, 5, 10};
    for (size_t i = 0; i < 4; i++)
        if (mult[i] * mag >= raw)
            return mult[i] * mag;
    return 10 * mag;
}

static double x_at(const struct admin_range *r, size_t i)
{
    return CL + (double)(CW - CL - CR) * (double)i / (double)(r->n - 1);
}

static double y_at(int64_t v, int64_t ymax)
{
    return CT + (double)(CH - CT - CB) * (1.0 - (double)v / (double)ymax);
}

static enum label_style axis_style(int64_t interval, int64_t span)
{
    if (interval >= 86400)
        return LABEL_DAY;
    return span > 86400 ? LABEL_DAY_TIME : LABEL_TIME;
}

static void x_axis(struct buf *b, const struct admin_range *r, int64_t offset)
{
    static const int64_t intervals[] = {60,    120,   300,   600,   900,    1800,   3600,   7200,
                                        10800, 21600, 43200, 86400, 172800, 604800, 2592000};
    int64_t span = (int64_t)(r->n - 1) * r->bucket;
    int64_t interval = intervals[sizeof intervals / sizeof intervals[0] - 1];
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++)
        if (span / intervals[i] <= 4) {
            interval = intervals[i];
            break;
        }
    enum label_style style = axis_style(interval, span);
    int64_t end = r->start + span;
    /* The first tick on a round local time at or after the start. */
    int64_t local = r->start + offset;
    int64_t t = local - ((local % interval) + interval) % interval - offset;
    if (t < r->start)
        t += interval;
    for (; t <= end; t += interval) {
        double x = CL + (double)(CW - CL - CR) * (double)(t - r->start) / (double)span;
        buf_printf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x,
                   CH - CB, x, CH - CB + 5);
        const char *anchor = x < CL + 30 ? "start" : x > CW - CR - 30 ? "end" : "middle";
        buf_printf(b, "<text class=\"xl\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", x, CH - 12,
                   anchor);
        time_label(b, t, offset, style);
        buf_puts(b, "</text>");
    }
}

static void svg_chart(struct buf *b, const char *id, const char *title, const char *desc,
                      const struct admin_range *r, const struct line *lines, size_t nlines,
                      int64_t offset, int area)
{
    int64_t max = 0;
    for (size_t l = 0; l < nlines; l++)
        for (size_t i = 0; i < r->n; i++)
            if (lines[l].values[i] > max)
                max = lines[l].values[i];
    int64_t step = nice_step(max);
    int64_t ymax = (max + step - 1) / step * step;
    if (ymax < step * 4 && max < 4)
        ymax = step * 4;
    if (ymax == 0)
        ymax = step;

    buf_printf(b,
               "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-labelledby=\"%s-title %s-desc\" preserveAspectRatio=\"xMidYMid meet\">"
               "<title id=\"%s-title\">",
               CW, CH, id, id, id);
    escape_html(b, title);
    buf_printf(b, "</title><desc id=\"%s-desc\">", id);
    escape_html(b, desc);
    buf_puts(b, "</desc>");
    /* Grid and y labels. */
    for (int64_t v = 0; v <= ymax; v += step) {
        double y = y_at(v, ymax);
        buf_printf(b, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
                   v ? "grid" : "axis", CL, y, CW - CR, y);
        buf_printf(b, "<text class=\"yl\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", CL - 8,
                   y + 4.5);
        admin_count(b, v);
        buf_puts(b, "</text>");
    }
    x_axis(b, r, offset);
    for (size_t l = 0; l < nlines; l++) {
        size_t color = lines[l].color % 8;
        if (area && l == 0) {
            buf_printf(b, "<polygon class=\"area s%zu\" points=\"%.1f,%.1f", color, x_at(r, 0),
                       y_at(0, ymax));
            for (size_t i = 0; i < r->n; i++)
                buf_printf(b, " %.1f,%.1f", x_at(r, i), y_at(lines[l].values[i], ymax));
            buf_printf(b, " %.1f,%.1f\"/>", x_at(r, r->n - 1), y_at(0, ymax));
        }
        /* Lines drawn earlier are wider, so a line hidden under a later one
         * with the same values still shows as a coloured edge. */
        double width = 2.5 + (nlines <= 4 ? 1.75 * (double)(nlines - 1 - l) : 0);
        buf_printf(b, "<polyline class=\"line s%zu%s\" stroke-width=\"%.2f\" points=\"", color,
                   l >= 8 ? " dashed" : "", width);
        for (size_t i = 0; i < r->n; i++)
            buf_printf(b, "%s%.1f,%.1f", i ? " " : "", x_at(r, i), y_at(lines[l].values[i], ymax));
        buf_printf(b, "\"/><circle class=\"dot s%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>", color,
                   x_at(r, r->n - 1), y_at(lines[l].values[r->n - 1], ymax));
    }
    buf_puts(b, "</svg>\n");
}

/* total_word: "click" gets an "s" unless the total is 1; NULL for none. */
static void legend(struct buf *b, const struct line *lines, size_t nlines, const int64_t *totals,
                   const char *total_word)
{
    buf_puts(b, "<ul class=\"legend\">");
    for (size_t l = 0; l < nlines; l++) {
        buf_printf(b, "<li><span class=\"swatch s%zu\" aria-hidden=\"true\"></span>",
                   lines[l].color % 8);
        escape_html(b, lines[l].label);
        buf_puts(b, " <b>");
        admin_count(b, totals[l]);
        buf_puts(b, "</b>");
        if (total_word)
            buf_printf(b, " %s%s", total_word, totals[l] == 1 ? "" : "s");
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul>\n");
}

/* The numbers behind a chart. Rows where nothing happened are left out
 * (cumulative: no change; per bucket: all zero), except the last. */
static void data_table(struct buf *b, const char *id, const char *caption,
                       const struct admin_range *r, const struct line *lines, size_t nlines,
                       int64_t offset, int cumulative)
{
    int64_t span = (int64_t)(r->n - 1) * r->bucket;
    enum label_style style = span > 86400 || r->bucket >= 86400 ? LABEL_DAY_TIME : LABEL_TIME;
    buf_printf(b,
               "<details class=\"table-toggle\" id=\"%s-table\"><summary>Show the numbers as "
               "a table</summary>\n<div class=\"table-wrap\"><table><caption>",
               id);
    escape_html(b, caption);
    buf_puts(b, "</caption>\n<thead><tr><th scope=\"col\">Time</th>");
    for (size_t l = 0; l < nlines; l++) {
        buf_puts(b, "<th scope=\"col\">");
        escape_html(b, lines[l].label);
        buf_puts(b, "</th>");
    }
    buf_puts(b, "</tr></thead>\n<tbody>\n");
    size_t shown = 0;
    for (size_t i = 0; i < r->n; i++) {
        int interesting = i == r->n - 1;
        for (size_t l = 0; l < nlines && !interesting; l++)
            interesting = cumulative ? lines[l].values[i] != (i ? lines[l].values[i - 1] : 0)
                                     : lines[l].values[i] != 0;
        if (!interesting)
            continue;
        shown++;
        buf_puts(b, "<tr><th scope=\"row\">");
        time_label(b, r->start + (int64_t)i * r->bucket, offset, style);
        buf_puts(b, "</th>");
        for (size_t l = 0; l < nlines; l++) {
            buf_puts(b, "<td>");
            admin_count(b, lines[l].values[i]);
            buf_puts(b, "</td>");
        }
        buf_puts(b, "</tr>\n");
    }
    buf_puts(b, "</tbody></table></div></details>\n");
}

/* ---- the live region ---- */

static void reminders_card(struct buf *b, struct store *st, const struct campaign_row *row,
                           int64_t sent, int64_t failed, int64_t pending)
{
    buf_puts(b, "<section class=\"card reminders\" aria-labelledby=\"reminders-h\">\n"
                "<h2 id=\"reminders-h\">Reminders</h2>\n");
    int64_t total = sent + failed + pending;
    if (!row->launched_at && total == 0) {
        int64_t owed = 0;
        if (launches_owed(st, row->id, &owed) != 0)
            owed = 0;
        buf_puts(b, "<p>At the launch moment every confirmed, subscribed supporter gets one "
                    "reminder with their one-click link: <b>");
        admin_count(b, owed);
        buf_printf(b, "</b> %s right now.</p>\n</section>\n", owed == 1 ? "person" : "people");
        return;
    }
    int64_t settled = sent + failed;
    double w_sent = total ? 1000.0 * (double)sent / (double)total : 0;
    double w_failed = total ? 1000.0 * (double)failed / (double)total : 0;
    buf_puts(b, "<svg class=\"bar\" viewBox=\"0 0 1000 16\" preserveAspectRatio=\"none\" "
                "role=\"img\" aria-labelledby=\"reminders-bar-title\"><title "
                "id=\"reminders-bar-title\">");
    admin_count(b, settled);
    buf_puts(b, " of ");
    admin_count(b, total);
    buf_puts(b, " reminders settled</title>");
    buf_puts(b, "<rect class=\"bar-bg\" x=\"0\" y=\"0\" width=\"1000\" height=\"16\"/>");
    buf_printf(b, "<rect class=\"bar-sent\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"16\"/>",
               w_sent);
    buf_printf(b, "<rect class=\"bar-failed\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"16\"/>",
               w_sent, w_failed);
    buf_puts(b, "</svg>\n<ul class=\"legend\"><li><span class=\"swatch sent\" "
                "aria-hidden=\"true\"></span>Sent <b>");
    admin_count(b, sent);
    buf_puts(b, "</b></li><li><span class=\"swatch failed\" aria-hidden=\"true\"></span>Failed "
                "<b>");
    admin_count(b, failed);
    buf_puts(b, "</b></li><li><span class=\"swatch pending\" aria-hidden=\"true\"></span>Pending "
                "<b>");
    admin_count(b, pending);
    buf_puts(b, "</b></li><li>of <b>");
    admin_count(b, total);
    buf_puts(b, "</b></li></ul>\n");
    if (failed)
        buf_puts(b, "<p class=\"muted\">Failed reminders were refused by the mail relay; the "
                    "supporters CSV does not list them, the server log names the reply.</p>\n");
    buf_puts(b, "</section>\n");
}

static void range_words(struct buf *b, const struct admin_range *r, int64_t offset, const char *tz)
{
    int64_t span = (int64_t)(r->n - 1) * r->bucket;
    enum label_style style = span > 86400 ? LABEL_DAY_TIME : LABEL_TIME;
    buf_puts(b, "From ");
    time_label(b, r->start, offset, style);
    buf_puts(b, " to ");
    time_label(b, r->start + span, offset, style);
    buf_printf(b, " (%s), one point per ", tz); /* zone names are [A-Za-z0-9/_+-] (tz_valid) */
    bucket_words(b, r->bucket);
    buf_puts(b, ".");
}

static void pledging_card(struct buf *b, const struct admin_series *s, const char *tz)
{
    buf_puts(b, "<section class=\"card chart-card\" aria-labelledby=\"pledging-h\">\n"
                "<h2 id=\"pledging-h\">Pledges over time</h2>\n");
    if (!s->pledging.n) {
        buf_puts(b, "<p class=\"muted empty-chart\">No pledges yet. The chart starts with the "
                    "first one.</p>\n</section>\n");
        return;
    }
    const struct admin_range *r = &s->pledging;
    int64_t offset = utc_offset(r->start, tz);
    struct line lines[2] = {{"Pledged", s->pledged, 0}, {"Confirmed", s->confirmed, 1}};
    int64_t totals[2] = {s->pledged[r->n - 1], s->confirmed[r->n - 1]};
    struct buf desc = BUF_INIT;
    buf_puts(&desc, "Cumulative pledges and confirmations. ");
    range_words(&desc, r, offset, tz);
    buf_printf(&desc, " %lld pledged, %lld confirmed.", (long long)totals[0], (long long)totals[1]);
    legend(b, lines, 2, totals, NULL);
    svg_chart(b, "chart-pledging", "Pledges and confirmations over time", buf_cstr(&desc), r, lines,
              2, offset, 1);
    buf_puts(b, "<p class=\"chart-note\">");
    range_words(b, r, offset, tz);
    buf_puts(b, "</p>\n");
    data_table(b, "chart-pledging", "Pledges and confirmations so far, at each time", r, lines, 2,
               offset, 1);
    buf_puts(b, "</section>\n");
    buf_release(&desc);
}

static void clicks_card(struct buf *b, const struct admin_series *s, const struct campaign_row *row,
                        const char *tz)
{
    buf_puts(b, "<section class=\"card chart-card\" aria-labelledby=\"clicks-h\">\n"
                "<h2 id=\"clicks-h\">Clicks per target</h2>\n");
    if (!s->launch.n || !s->ntargets) {
        buf_puts(b, "<p class=\"muted empty-chart\">Clicks show here from the launch moment, ");
        admin_when(b, row->launch_utc, tz);
        buf_puts(b, ".</p>\n</section>\n");
        return;
    }
    const struct admin_range *r = &s->launch;
    int64_t offset = utc_offset(r->start, tz);
    struct line *lines = calloc(s->ntargets, sizeof *lines);
    int64_t *totals = calloc(s->ntargets, sizeof *totals);
    if (!lines || !totals) {
        free(lines);
        free(totals);
        buf_puts(b, "</section>\n");
        return;
    }
    struct buf desc = BUF_INIT;
    buf_puts(&desc, "Clicks per ");
    bucket_words(&desc, r->bucket);
    buf_puts(&desc, " at each target. ");
    range_words(&desc, r, offset, tz);
    for (size_t t = 0; t < s->ntargets; t++) {
        lines[t].label = s->target_keys[t];
        lines[t].values = s->clicks + t * r->n;
        lines[t].color = t;
        int64_t peak = 0;
        for (size_t i = 0; i < r->n; i++) {
            totals[t] += lines[t].values[i];
            if (lines[t].values[i] > peak)
                peak = lines[t].values[i];
        }
        buf_printf(&desc, " %s: %lld clicks, at most %lld in one ", s->target_keys[t],
                   (long long)totals[t], (long long)peak);
        bucket_words(&desc, r->bucket);
        buf_puts(&desc, ".");
    }
    legend(b, lines, s->ntargets, totals, "click");
    svg_chart(b, "chart-clicks", "Clicks per target over time", buf_cstr(&desc), r, lines,
              s->ntargets, offset, 0);
    buf_puts(b, "<p class=\"chart-note\">");
    range_words(b, r, offset, tz);
    buf_puts(b, "</p>\n");
    struct buf caption = BUF_INIT;
    buf_puts(&caption, "Clicks per ");
    bucket_words(&caption, r->bucket);
    buf_puts(&caption, " at each target");
    data_table(b, "chart-clicks", buf_cstr(&caption), r, lines, s->ntargets, offset, 0);
    buf_puts(b, "</section>\n");
    buf_release(&caption);
    buf_release(&desc);
    free(lines);
    free(totals);
}

int admin_charts_html(struct buf *b, struct store *st, const struct campaign_row *row,
                      const struct campaign *c, int64_t now)
{
    int64_t sent, failed, pending;
    struct admin_series s;
    if (store_dashboard_reminders(st, row->id, &sent, &failed, &pending) != 0 ||
        admin_series_load(st, row, now, &s) != 0)
        return -1;
    reminders_card(b, st, row, sent, failed, pending);
    buf_puts(b, "<div class=\"chart-grid\">\n");
    pledging_card(b, &s, c->timezone);
    clicks_card(b, &s, row, c->timezone);
    buf_puts(b, "</div>\n");
    admin_series_release(&s);
    return 0;
}

void handle_admin_charts(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    if (admin_campaign_load(req, resp, &row, &c) != 0)
        return;
    if (admin_charts_html(&resp->body, req->store, &row, c, req->now) != 0) {
        buf_reset(&resp->body);
        resp->status = 503;
        buf_puts(&resp->body, "<p class=\"muted\">The charts could not be drawn.</p>\n");
    }
    campaign_row_release(&row);
}

/* ---- the time series API ---- */

static json_t *int_array(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static json_t *range_object(const struct admin_range *r)
{
    char start[21];
    tz_iso_utc(r->start, start);
    return json_pack("{s:s, s:I, s:I}", "start", start, "bucket_seconds", (json_int_t)r->bucket,
                     "points", (json_int_t)r->n);
}

void handle_api_timeseries(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(req->store, req->params[0], &row, &c);
    if (rc == STORE_NOT_FOUND) {
        http_json(resp, 404, "{\"error\":\"no such campaign\"}");
        return;
    }
    struct admin_series s;
    if (rc != 0 || admin_series_load(req->store, &row, req->now, &s) != 0) {
        if (rc == 0)
            campaign_row_release(&row);
        http_json(resp, 500, "{\"error\":\"time series unavailable\"}");
        return;
    }
    char now[21];
    tz_iso_utc(req->now, now);
    json_t *doc =
        json_pack("{s:s, s:s, s:s}", "campaign", row.slug, "timezone", c->timezone, "now", now);
    json_t *pledging = json_null(), *launch = json_null();
    if (s.pledging.n) {
        pledging = range_object(&s.pledging);
        json_object_set_new(pledging, "pledged", int_array(s.pledged, s.pledging.n));
        json_object_set_new(pledging, "confirmed", int_array(s.confirmed, s.pledging.n));
    }
    if (s.launch.n) {
        launch = range_object(&s.launch);
        json_object_set_new(launch, "reminders_sent", int_array(s.sent, s.launch.n));
        json_t *clicks = json_array();
        for (size_t t = 0; t < s.ntargets; t++)
            json_array_append_new(clicks,
                                  json_pack("{s:s, s:o}", "target", s.target_keys[t], "clicks",
                                            int_array(s.clicks + t * s.launch.n, s.launch.n)));
        json_object_set_new(launch, "clicks", clicks);
    }
    json_object_set_new(doc, "pledging", pledging);
    json_object_set_new(doc, "launch", launch);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        http_json(resp, 200, text);
    else
        http_json(resp, 500, "{\"error\":\"time series unavailable\"}");
    free(text);
    json_decref(doc);
    admin_series_release(&s);
    campaign_row_release(&row);
}
