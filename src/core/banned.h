/*
 * banned.h: functions that are easy to misuse, made compile errors (after git's
 * banned.h). Use buf_* or snprintf instead. Included last by every .c file that
 * formats strings.
 */
#ifndef MUSTER_CORE_BANNED_H
#define MUSTER_CORE_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif
