/*
 * access: who may do what in the dashboard and the API, decided in one place
 * (docs/DASHBOARD.md, "Roles"). Every /admin and /api route names one action
 * (app/routes.c); http/session.c asks access_decide before the handler runs,
 * and the pages ask it again only to leave out links the reader may not
 * follow. The table of actions x roles is access.c's; nothing else decides.
 */
#ifndef MUSTER_SERVICE_ACCESS_H
#define MUSTER_SERVICE_ACCESS_H

#include <stdint.h>

#include "store/store.h"

enum access_action {
    ACCESS_NONE = 0,        /* a public route: nobody is asked */
    ACCESS_CAMPAIGN_LIST,   /* the list of campaigns (each shown only if VIEW allows) */
    ACCESS_CAMPAIGN_CREATE, /* a new campaign; its creator becomes its owner */
    ACCESS_ERASE_ANYONE,    /* erase an address in every campaign */
    ACCESS_SUPPRESSION,     /* see and edit the suppression list (every campaign's) */
    ACCESS_CAMPAIGN_VIEW,   /* launch-day view, charts, stats and time series */
    ACCESS_CAMPAIGN_EDIT,   /* the campaign form and saving it */
    ACCESS_TARGET_SET,      /* close and reopen targets */
    ACCESS_LAUNCH_CONTROL,  /* pause and resume the launch, send a test reminder */
    ACCESS_PERSONAL_DATA,   /* supporters' and clicks' CSV, the import */
    ACCESS_GRANT,           /* give and take roles on the campaign */
    ACCESS_ACTION_COUNT
};

enum access_verdict {
    ACCESS_ALLOWED = 0,
    ACCESS_FORBIDDEN, /* the organizer may see the campaign, not do this: 403 */
    ACCESS_HIDDEN,    /* no role on the campaign, or no such campaign: 404 */
};

/* 1 when the action concerns one campaign (its route names it as :slug). */
int access_action_is_campaign(enum access_action action);
/* "campaign.view", ... (for `muster routes`); "none" for ACCESS_NONE. */
const char *access_action_name(enum access_action action);
/* The campaign role named "owner", "editor" or "viewer"; -1 for another word. */
int access_role_parse(const char *word, enum campaign_role *role);
const char *access_role_name(enum campaign_role role);
const char *access_organizer_role_name(enum organizer_role role);

/* What the organizer may do: campaign_id is the campaign's (0 for an action
 * that concerns none, or when the named campaign does not exist: then the
 * verdict is ACCESS_HIDDEN for a campaign action). Returns 0 with *verdict
 * set, -1 when the store failed. */
int access_decide(struct store *st, int64_t organizer_id, int64_t campaign_id,
                  enum access_action action, enum access_verdict *verdict);

#endif
