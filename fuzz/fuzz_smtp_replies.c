/*
 * fuzz_smtp_replies: the pipelining SMTP client's reply handling
 * (mail/transport_pipe.c) on arbitrary relay output: greeting, EHLO and its
 * capabilities, replies to MAIL/RCPT/DATA/the dot/RSET, multi-line replies,
 * replies split across reads, garbage and overlong lines. Every message the
 * client took must be reported exactly once, whatever the relay says;
 * anything else abort()s (inside transport_pipe_fuzz).
 */
#include <stddef.h>
#include <stdint.h>

#include "mail/transport_private.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    transport_pipe_fuzz(data, size);
    return 0;
}
