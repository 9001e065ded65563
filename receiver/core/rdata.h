/*
 * Internal to the receiver core: the data path of one session (rdata.c),
 * called by receiver.c once a packet is decoded and its session found.
 * Each function may end the session (rsess_fail) or complete it; the
 * caller checks s->state afterwards.
 */
#ifndef SALVO_RDATA_H
#define SALVO_RDATA_H

#include "receiver/core/rsess.h"

/* A MANIFEST chunk (state RS_MANIFEST).  The last chunk decodes the
 * manifest, sets up the data phase and calls the engine's prepare. */
void rdata_on_manifest(salvo_rsess *s, const salvo_pkt_manifest *m,
		       uint64_t now);
/* The end of the prepare callback (at once, or from
 * salvo_receiver_prepared after SALVO_PREPARE_LATER): err (-errno, msg)
 * fails the session, else the data phase starts. */
void rdata_prepared(salvo_rsess *s, int err, const char *msg, uint64_t now);
/* A DATA datagram (state RS_DATA): checked against the session, written
 * once (duplicates dropped), its block sent for verification when full. */
void rdata_on_data(salvo_rsess *s, const salvo_pkt *p, uint64_t now);
/* FILE_DONE digests (state RS_DATA).  abandoned (SALVO_FD_F_ABANDONED):
 * the sender gave the file up; once its blocks are verified it fails
 * alone (cb.drop_file, verdict FAILED with the sender's errno). */
void rdata_on_file_done(salvo_rsess *s, const salvo_pkt_file_done *f,
			int abandoned, uint64_t now);
/* The engine's answers to verify_block and finalize_file. */
void rdata_block_result(salvo_rsess *s, uint32_t block, int ok, uint64_t now);
/* A file result of -errno (it could not be stored) fails that file
 * alone (rverdict_late_fail); SALVO_ERR_VERIFY or another error ends the
 * session. */
void rdata_file_result(salvo_rsess *s, uint32_t file, int result,
		       const char *msg, uint64_t now);
/* Completes the session (state RS_DATA) when every file is committed or
 * failed alone and the sender holds those failures (STATUS). */
void rdata_maybe_complete(salvo_rsess *s, uint64_t now);
/* Frees the session's manifest, streams and block/file tables. */
void rdata_free(salvo_rsess *s);

#endif
