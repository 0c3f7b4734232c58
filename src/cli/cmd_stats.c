/*
 * cmd_stats: `muster stats SLUG [--json]`: the launch's state (scheduled,
 * due, missed, sending, sent; paused, by whom and why), pledges,
 * confirmations, reminders sent / failed / pending, clicks and reroutes per
 * target.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service/stats_json.h"
#include "cli/commands.h"
#include "store/store.h"
#include "core/banned.h"

int cmd_stats(struct cli *cli, int argc, char **argv)
{
    const char *slug = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (!slug && argv[i][0] != '-')
            slug = argv[i];
        else
            return cli_fail(EXIT_USAGE, "usage: muster stats SLUG [--json]");
    }
    if (!slug)
        return cli_fail(EXIT_USAGE, "usage: muster stats SLUG [--json]");
    json_t *doc = NULL;
    int rc = stats_json(cli->store, slug, &doc);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read the stats of '%s'", slug);
    if (json) {
        /* On a terminal every character beyond ASCII is a \u escape (jansson
         * escapes C0 itself) and so is DEL: no control, C1 or bidi character
         * reaches it, and the JSON stays JSON. */
        int tty = isatty(STDOUT_FILENO);
        size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
        if (tty)
            flags |= JSON_ENSURE_ASCII;
        char *text = json_dumps(doc, flags);
        for (const char *p = text; p && *p; p++) {
            if (tty && *p == 0x7f)
                fputs("\\u007f", stdout);
            else
                putchar(*p);
        }
        if (text)
            putchar('\n');
        free(text);
    } else {
        printf("campaign            %s\n",
               cli_text(json_string_value(json_object_get(doc, "campaign"))));
        printf("title               %s\n",
               cli_text(json_string_value(json_object_get(doc, "title"))));
        json_t *launch = json_object_get(doc, "launch");
        printf("launch              %s%s\n",
               cli_text(json_string_value(json_object_get(launch, "state"))),
               json_is_true(json_object_get(launch, "paused")) ? ", PAUSED" : "");
        if (json_is_true(json_object_get(launch, "paused"))) {
            printf("paused at           %s\n",
                   cli_text(json_string_value(json_object_get(launch, "paused_at"))));
            printf("paused by           %s\n",
                   cli_text(json_string_value(json_object_get(launch, "paused_by"))));
            printf("paused because      %s\n",
                   cli_text(json_string_value(json_object_get(launch, "paused_reason"))));
        }
        const char *keys[] = {"pledges", "confirmed", "unsubscribed", "clicks", "reroutes"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            printf("%-19s %lld\n", keys[i],
                   (long long)json_integer_value(json_object_get(doc, keys[i])));
        json_t *rem = json_object_get(doc, "reminders");
        printf("reminders sent      %lld\nreminders failed    %lld\nreminders pending   %lld\n",
               (long long)json_integer_value(json_object_get(rem, "sent")),
               (long long)json_integer_value(json_object_get(rem, "failed")),
               (long long)json_integer_value(json_object_get(rem, "pending")));
        printf("targets:\n");
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(doc, "targets"), i, t)
        {
            printf("  %-16s %-7s clicks %-6lld assigned %-6lld rerouted away %-4lld reports %lld\n",
                   cli_text(json_string_value(json_object_get(t, "id"))),
                   cli_text(json_string_value(json_object_get(t, "state"))),
                   (long long)json_integer_value(json_object_get(t, "clicks")),
                   (long long)json_integer_value(json_object_get(t, "assigned")),
                   (long long)json_integer_value(json_object_get(t, "rerouted")),
                   (long long)json_integer_value(json_object_get(t, "reports")));
        }
    }
    json_decref(doc);
    return EXIT_OK;
}
