/*
 * Scratch folders for unit tests (see testdir.h).  Removal walks the tree
 * with nftw, depth first, without following symbolic links.
 */
#define _XOPEN_SOURCE 700
#include "tests/helpers/testdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int testdir_enter(testdir *d, const char *name)
{
	snprintf(d->path, sizeof(d->path), "/tmp/salvo-%s-XXXXXX", name);
	if (!getcwd(d->home, sizeof(d->home)) || !mkdtemp(d->path) ||
	    chdir(d->path))
		return -1;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int testdir_leave(testdir *d)
{
	if (chdir(d->home))
		return -1;
	return nftw(d->path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
