#ifndef VOUCH_CSYSTEM_SHIM_H
#define VOUCH_CSYSTEM_SHIM_H

/* Operating-system calls that Swift's Glibc module does not expose. */

#if defined(__linux__)
/* Declared by <unistd.h> only under _GNU_SOURCE, which the Glibc module is built without. */
extern int syncfs(int fd);
static inline int vouch_syncfs(int fd) { return syncfs(fd); }
#endif

#endif
