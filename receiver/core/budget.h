/*
 * What one receiver session costs in memory, before it is allocated: the
 * receiver engine reserves that much from its memory budget
 * (receiver.memory_budget) when a manifest arrives, and refuses the
 * manifest with a clear message when the budget cannot take it, so no
 * peer can make the receiver allocate in proportion to what it claims
 * (a 140 GB file in 524-byte blocks costs 3.5 GiB of block tables).
 *
 * Pure; thread-safe.
 */
#ifndef SALVO_RBUDGET_H
#define SALVO_RBUDGET_H

#include <stdint.h>

#include "common/core/manifest.h"

/* Bytes the receiver core holds for a session whose decoded manifest is
 * m and whose blocks are block_bytes (> 0): the session itself, its
 * per-block table (block CRC, state, failures), its per-entry table
 * (pending blocks, state, digest flag, digest) and the decoded manifest
 * (entries and their paths).  Not counted: the encoded manifest (freed
 * once decoded) and the sets of received ranges (they grow with holes,
 * not with the manifest).  Saturates at UINT64_MAX. */
uint64_t salvo_rbudget_session_bytes(const salvo_manifest *m,
				     uint32_t block_bytes);

/* Bytes a manifest of count entries whose paths take path_bytes in all
 * holds once decoded (entries and NUL-terminated paths). */
uint64_t salvo_rbudget_manifest_bytes(uint64_t count, uint64_t path_bytes);

#endif
