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

/* How the receiver checks what it wrote. */
enum salvo_verify {
	SALVO_VERIFY_NORMAL = 0, /* hash each byte as it is written: block
				  * CRC32C and file BLAKE3, no read-back */
	SALVO_VERIFY_PARANOID,	 /* also read every block and file back
				  * from the disk and check them again */
};

#endif
