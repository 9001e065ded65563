/*
 * Policies that the configuration names and the engines carry out: plain
 * enums, so conf/ and the engines share them without knowing each other.
 */
#ifndef SALVO_POLICY_H
#define SALVO_POLICY_H

/* What the receiver does when a file's final name already exists. */
enum salvo_overwrite {
	SALVO_OVERWRITE_NEVER = 0, /* an existing target fails the file */
	SALVO_OVERWRITE_REPLACE,   /* replace it atomically (rename) */
	SALVO_OVERWRITE_RENAME, /* keep it; store the new one as NAME.1 ... */
};

#endif
