/*
 * Opening sealed datagrams outside the core lock (see opener.h).  The
 * opener keeps copies of the lane keys it has seen, looked up by
 * (session, lane, epoch) from the clear header: a hit is opened here,
 * with no lock and nothing shared; a miss (the first packet of a lane or
 * of a new epoch, a session we do not know, a handshake packet) goes to
 * the core as before, which opens it under the lock, and the key is
 * copied then for the next packets.  The copies are only a cache: the
 * core's commit compares the key used with the lane's own, so a stale
 * copy can waste a decryption but never get a packet accepted.  Results
 * are kept per datagram in batch order; if that array cannot grow, the
 * rest of the batch is simply opened under the lock.
 */
#include "receiver/engine/opener.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/wire.h"

void ropener_init(ropener *o)
{
	memset(o, 0, sizeof(*o));
}

static void wipe(ropener_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void ropener_free(ropener *o)
{
	for (int i = 0; i < ROPENER_KEYS; i++)
		wipe(&o->keys[i]);
	free(o->result);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

void ropener_begin(ropener *o)
{
	o->n = 0;
	o->fed = 0;
	o->full = 0;
	memset(o->pending, 0, sizeof(o->pending));
}

static int find(const ropener *o, const salvo_pkt_hdr *h, uint64_t epoch)
{
	for (int i = 0; i < ROPENER_KEYS; i++) {
		const ropener_key *k = &o->keys[i];
		if (k->session == h->session && k->lane == h->lane &&
		    k->epoch == epoch)
			return i;
	}
	return -1;
}

static int grow(ropener *o)
{
	size_t cap = o->cap ? 2 * o->cap : 256;
	int16_t *r = realloc(o->result, cap * sizeof(*r));
	if (!r)
		return -1;
	o->result = r;
	int *e = realloc(o->err, cap * sizeof(*e));
	if (!e)
		return -1;
	o->err = e;
	o->cap = cap;
	return 0;
}

void ropener_open(ropener *o, uint8_t *dg, size_t len)
{
	if (o->full || (o->n == o->cap && grow(o))) {
		o->full = 1; /* the rest of the batch: under the lock */
		return;
	}
	salvo_pkt_hdr h;
	int slot = -1;
	if (!salvo_wire_decode_header(dg, len, &h) &&
	    salvo_wire_is_sealed(h.type))
		slot = find(o, &h, salvo_aead_epoch_of(h.pn));
	o->result[o->n] = (int16_t)slot;
	if (slot >= 0) {
		size_t plain;
		const ropener_key *k = &o->keys[slot];
		o->err[o->n] = salvo_aead_open_with(
		    k->suite, &k->k, k->epoch, h.pn, dg, SALVO_HDR_BYTES,
		    dg + SALVO_HDR_BYTES, len - SALVO_HDR_BYTES, &plain);
		o->opened++;
		o->pending[slot]++;
	}
	o->n++;
}

/* Core lock held: copies the key for h's lane and epoch, if the core
 * holds it and we do not. */
static void learn(ropener *o, const salvo_receiver *core,
		  const salvo_pkt_hdr *h)
{
	uint64_t epoch = salvo_aead_epoch_of(h->pn);
	if (find(o, h, epoch) >= 0)
		return;
	ropener_key got = {
	    .session = h->session, .lane = h->lane, .epoch = epoch};
	/* the next slot no datagram of this batch still waits on */
	uint32_t v = o->victim, k = 0;
	while (k < ROPENER_KEYS && o->pending[v]) {
		v = (v + 1) % ROPENER_KEYS;
		k++;
	}
	if (k < ROPENER_KEYS &&
	    !salvo_receiver_lane_key(core, h->session, h->lane, epoch, &got.k,
				     &got.suite)) {
		o->keys[v] = got;
		o->victim = (v + 1) % ROPENER_KEYS;
	}
	wipe(&got);
}

void ropener_feed(ropener *o, salvo_receiver *core, const salvo_addr *a,
		  uint8_t *dg, size_t len, uint64_t arrival, uint64_t now)
{
	size_t i = o->fed++;
	if (i < o->n && o->result[i] >= 0) {
		o->pending[o->result[i]]--;
		salvo_receiver_on_opened(core, a, dg, len,
					 &o->keys[o->result[i]].k, o->err[i],
					 arrival, now);
		return;
	}
	salvo_pkt_hdr h;
	int sealed = !salvo_wire_decode_header(dg, len, &h) &&
		     salvo_wire_is_sealed(h.type);
	salvo_receiver_on_packet_at(core, a, dg, len, arrival, now);
	if (sealed)
		learn(o, core, &h);
}

void ropener_refresh(ropener *o, const salvo_receiver *core, uint64_t now)
{
	if (now - o->refreshed < ROPENER_REFRESH_NS)
		return;
	o->refreshed = now;
	for (int i = 0; i < ROPENER_KEYS; i++) {
		ropener_key *k = &o->keys[i];
		salvo_aead_key held;
		int suite;
		if (!k->session)
			continue;
		if (salvo_receiver_lane_key(core, k->session, k->lane, k->epoch,
					    &held, &suite) ||
		    suite != k->suite || !salvo_aead_key_equal(&held, &k->k))
			wipe(k);
		sodium_memzero(&held, sizeof(held));
	}
}
