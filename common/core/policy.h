/*
 * Policies that the configuration names and the engines carry out: plain
 * enums, so conf/ and the engines share them without knowing each other.
 */
#ifndef SALVO_POLICY_H
#define SALVO_POLICY_H

/* How the sender paces (common/core/rate.h).  fixed paces at
 * transfer.rate_bps; the others find the path's rate themselves
 * (rate_fair.c) below transfer.rate_bps as a ceiling (0: none).  fair is
 * the default.  adaptive, the older delay-only policy, is now another
 * name for fair, so configs written before fair keep working. */
enum salvo_rate_policy {
	SALVO_RATE_FIXED = 0, /* pace at transfer.rate_bps */
	SALVO_RATE_ADAPTIVE,  /* another name for fair */
	SALVO_RATE_FAIR,      /* a TCP-like share, found without a rate */
	SALVO_RATE_HIGH,      /* about twice that */
	SALVO_RATE_LOW,	      /* a scavenger: yields to TCP (LEDBAT-like) */
};

/* The policy's name as the configuration spells it. */
static inline const char *salvo_rate_policy_name(enum salvo_rate_policy p)
{
	switch (p) {
	case SALVO_RATE_FIXED:
		return "fixed";
	case SALVO_RATE_ADAPTIVE:
		return "adaptive";
	case SALVO_RATE_FAIR:
		return "fair";
	case SALVO_RATE_HIGH:
		return "high";
	case SALVO_RATE_LOW:
		return "low";
	}
	return "?";
}

/* What the receiver does when a file's final name already exists. */
enum salvo_overwrite {
	SALVO_OVERWRITE_NEVER = 0, /* an existing target fails the file */
	SALVO_OVERWRITE_REPLACE,   /* replace it atomically (rename) */
	SALVO_OVERWRITE_RENAME, /* keep it; store the new one as NAME.1 ... */
};

/* What the sender asks for a file whose name exists at the receiver
 * (--overwrite on send and watch; carried in the manifest header).  The
 * receiver's own enum salvo_overwrite bounds it (docs/CLI.md): a replace
 * it does not allow is a refusal, and with rename it keeps both. */
enum salvo_send_overwrite {
	SALVO_SEND_IF_DIFFERENT = 0, /* the default: skip it when its size
					and mtime are the same */
	SALVO_SEND_NEVER,	     /* skip it */
	SALVO_SEND_IF_NEWER,	     /* replace it only with a newer file */
	SALVO_SEND_ALWAYS,	     /* replace it, identical or not */
	SALVO_SEND_OVERWRITE_MAX = SALVO_SEND_ALWAYS,
};

/* How the receiver checks what it wrote. */
enum salvo_verify {
	SALVO_VERIFY_NORMAL = 0, /* hash each byte as it is written: block
				  * CRC32C and file BLAKE3, no read-back */
	SALVO_VERIFY_PARANOID,	 /* also read every block and file back
				  * from the disk and check them again */
};

#endif
