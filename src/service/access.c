/*
 * access: the table of actions x roles and the one function that reads it
 * (see access.h). A server administrator may do everything. A plain
 * organizer may list campaigns and create one, and on a campaign what their
 * role there allows:
 *
 *   action            admin  owner  editor  viewer  no role
 *   campaign list       y      y      y       y       y (the list is filtered)
 *   campaign create     y      y      y       y       y (the creator owns it)
 *   erase anyone        y      -      -       -       -
 *   suppression list    y      -      -       -       -
 *   campaign view       y      y      y       y       404
 *   campaign edit       y      y      y       403     404
 *   target close/open   y      y      y       403     404
 *   launch control      y      y      y       403     404 (pause, resume, test)
 *   personal data       y      y      403     403     404
 *   grant               y      y      403     403     404
 *
 * "No role" answers as if the campaign did not exist, so a plain organizer
 * cannot learn which campaigns exist; a role too low answers 403.
 */
#include "service/access.h"

#include <string.h>

#include "core/banned.h"

enum subject { SUBJECT_PLAIN, SUBJECT_OWNER, SUBJECT_EDITOR, SUBJECT_VIEWER, SUBJECT_COUNT };

static const struct {
    const char *name;
    int campaign; /* names one campaign */
    unsigned char allowed[SUBJECT_COUNT];
} actions[ACCESS_ACTION_COUNT] = {
    /*                                             plain owner editor viewer */
    [ACCESS_NONE] = {"none", 0, {0, 0, 0, 0}},
    [ACCESS_CAMPAIGN_LIST] = {"campaign.list", 0, {1, 1, 1, 1}},
    [ACCESS_CAMPAIGN_CREATE] = {"campaign.create", 0, {1, 1, 1, 1}},
    [ACCESS_ERASE_ANYONE] = {"supporter.erase-anyone", 0, {0, 0, 0, 0}},
    [ACCESS_SUPPRESSION] = {"suppression.manage", 0, {0, 0, 0, 0}},
    [ACCESS_CAMPAIGN_VIEW] = {"campaign.view", 1, {0, 1, 1, 1}},
    [ACCESS_CAMPAIGN_EDIT] = {"campaign.edit", 1, {0, 1, 1, 0}},
    [ACCESS_TARGET_SET] = {"target.set", 1, {0, 1, 1, 0}},
    [ACCESS_LAUNCH_CONTROL] = {"launch.control", 1, {0, 1, 1, 0}},
    [ACCESS_PERSONAL_DATA] = {"campaign.personal-data", 1, {0, 1, 0, 0}},
    [ACCESS_GRANT] = {"campaign.grant", 1, {0, 1, 0, 0}},
};

static const struct {
    enum campaign_role role;
    const char *name;
    enum subject subject;
} roles[] = {
    {CAMPAIGN_ROLE_OWNER, "owner", SUBJECT_OWNER},
    {CAMPAIGN_ROLE_EDITOR, "editor", SUBJECT_EDITOR},
    {CAMPAIGN_ROLE_VIEWER, "viewer", SUBJECT_VIEWER},
};

int access_action_is_campaign(enum access_action action)
{
    return action > ACCESS_NONE && action < ACCESS_ACTION_COUNT && actions[action].campaign;
}

const char *access_action_name(enum access_action action)
{
    return action >= ACCESS_NONE && action < ACCESS_ACTION_COUNT ? actions[action].name : "none";
}

int access_role_parse(const char *word, enum campaign_role *role)
{
    for (size_t i = 0; word && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(word, roles[i].name) == 0) {
            *role = roles[i].role;
            return 0;
        }
    return -1;
}

const char *access_role_name(enum campaign_role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role)
            return roles[i].name;
    return "?";
}

const char *access_organizer_role_name(enum organizer_role role)
{
    return role == ORGANIZER_ADMIN ? "admin" : "organizer";
}

int access_decide(struct store *st, int64_t organizer_id, int64_t campaign_id,
                  enum access_action action, enum access_verdict *verdict)
{
    if (action <= ACCESS_NONE || action >= ACCESS_ACTION_COUNT || organizer_id <= 0) {
        *verdict = ACCESS_HIDDEN; /* deny what the table does not name */
        return 0;
    }
    enum organizer_role server_role;
    int rc = store_organizer_role(st, organizer_id, &server_role);
    if (rc == STORE_NOT_FOUND) {
        *verdict = ACCESS_HIDDEN;
        return 0;
    }
    if (rc != 0)
        return -1;
    if (server_role == ORGANIZER_ADMIN && (!actions[action].campaign || campaign_id > 0)) {
        *verdict = ACCESS_ALLOWED;
        return 0;
    }
    if (!actions[action].campaign) {
        *verdict = actions[action].allowed[SUBJECT_PLAIN] ? ACCESS_ALLOWED : ACCESS_FORBIDDEN;
        return 0;
    }
    if (campaign_id <= 0) {
        *verdict = ACCESS_HIDDEN;
        return 0;
    }
    enum campaign_role role;
    rc = store_grant_role(st, organizer_id, campaign_id, &role);
    if (rc == STORE_NOT_FOUND) {
        *verdict = ACCESS_HIDDEN;
        return 0;
    }
    if (rc != 0)
        return -1;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role) {
            *verdict =
                actions[action].allowed[roles[i].subject] ? ACCESS_ALLOWED : ACCESS_FORBIDDEN;
            return 0;
        }
    *verdict = ACCESS_HIDDEN;
    return 0;
}
