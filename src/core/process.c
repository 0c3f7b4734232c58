/*
 * process: /proc/PID/stat field 22 (see process.h).
 */
#include "core/process.h"

#include <stdio.h>
#include <string.h>

#include "core/banned.h"

int process_start_ticks(long pid, unsigned long long *ticks)
{
    char path[64], line[1024];
    if (pid)
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    else
        snprintf(path, sizeof path, "/proc/self/stat");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = '\0';
    /* The command name (field 2) may hold spaces: count from its ')'. */
    const char *p = strrchr(line, ')');
    if (!p)
        return -2;
    int field = 2;
    for (; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    unsigned long long start = 0;
    if (sscanf(p, "%llu", &start) != 1)
        return -2;
    *ticks = start;
    return 0;
}
