/*
 * A scratch folder for a unit test that writes files: made below /tmp,
 * entered (chdir), and removed with everything in it when the test
 * leaves.  Not thread-safe (it changes the working directory).
 */
#ifndef SALVO_TESTDIR_H
#define SALVO_TESTDIR_H

typedef struct testdir {
	char path[96];	 /* /tmp/salvo-NAME-XXXXXX once made */
	char home[4096]; /* the working directory before */
} testdir;

/* Makes /tmp/salvo-NAME-XXXXXX and enters it.  Returns 0 or -1. */
int testdir_enter(testdir *d, const char *name);

/* Returns to the previous working directory and removes the folder.
 * Returns 0 or -1. */
int testdir_leave(testdir *d);

#endif
