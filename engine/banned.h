/* banned.h — functions logbook does not call (git's banned.h).
 * strcpy/strcat/sprintf/vsprintf overflow; strtok keeps hidden state;
 * localtime/gmtime read the timezone and global state, and break replay. */
#ifndef LB_BANNED_H
#define LB_BANNED_H

#define LB_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) LB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) LB_BANNED(strcat)
#undef sprintf
#define sprintf(...) LB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) LB_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) LB_BANNED(strtok)
#undef localtime
#define localtime(t) LB_BANNED(localtime)
#undef gmtime
#define gmtime(t) LB_BANNED(gmtime)

#endif
