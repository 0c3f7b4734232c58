/*
 * cmd_dkim: `muster dkim-record` prints the DNS TXT record that publishes the
 * public half of MUSTER_DKIM_KEY under MUSTER_DKIM_SELECTOR and
 * MUSTER_DKIM_DOMAIN (docs/DELIVERABILITY.md), one line, for a zone file or a
 * DNS provider's form.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "mail/dkim.h"
#include "core/banned.h"

int cmd_dkim_record(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster dkim-record");
    struct buf record = BUF_INIT;
    char err[512];
    if (dkim_dns_record(&cli->cfg, &record, err, sizeof err) != 0) {
        buf_release(&record);
        return cli_fail(EXIT_USAGE, "%s", err);
    }
    int rc = fwrite(record.data, 1, record.len, stdout) == record.len ? EXIT_OK : EXIT_RUNTIME;
    buf_release(&record);
    return rc;
}
