/*
 * BLAKE3 of a file from pieces in any order (see b3tree.h).
 *
 * The file has n = max(1, ceil(size / 1 KiB)) chunks.  Every full,
 * aligned run of 2^l chunks [i * 2^l, (i + 1) * 2^l) inside [0, n) is a
 * node (l, i) of BLAKE3's tree, except [0, n) itself, the root.  A chunk
 * is hashed when all its bytes are here; a node's chaining value waits
 * in a hash table until its sibling arrives, and the two join into their
 * parent unless that parent would be the root.  Once every byte is here
 * the table holds exactly the binary decomposition of n (the highest
 * power of two first), folded right to left at final, the last parent
 * with the ROOT flag.  A one-chunk file is its own root: its bytes wait
 * in the tree and salvo_blake3_hash digests them at final.
 *
 * Speed comes from feeding the SIMD kernels full lanes.  Pieces that
 * follow one another (datagrams in order) append to a run, a 32 KiB
 * buffer from a chunk boundary hashed 32 chunks at a time; up to four
 * runs stay open (holes, a little reordering) and the oldest closes when
 * a fifth is needed.  Sixteen or more whole chunks (the sender's blocks)
 * hash where they lie.  Consecutive chaining values join pairwise
 * through the SIMD parent kernel before the few at the edges meet the
 * table.  A chunk that straddles pieces collects its bytes in a 1 KiB
 * buffer (pend) keyed by chunk number in the same table; a run whose
 * last chunk completes that way absorbs the rest and joins the run that
 * follows.  Chunks completed one at a time wait in a queue and hash
 * sixteen side by side, each with its own counter.
 *
 * Every allocation an add may need (table growth, chunk buffers) is made
 * before anything changes, so SALVO_ERR_NOMEM leaves the tree as it was.
 */
#include "common/core/b3tree.h"

#include <string.h>

#include "common/core/blake3.h"
#include "common/core/blake3_impl.h"
#include "common/core/error.h"

#define CHUNK SALVO_BLAKE3_CHUNK_BYTES
#define EMPTY UINT64_MAX /* no valid key: level 254 */
#define SPARES 4	 /* chunk buffers kept for reuse */
#define BATCH 64	 /* chaining values joined on the stack at once */
#define RUNS 4		 /* contiguous streams buffered at once */
#define RUN_CHUNKS 32	 /* chunks a run buffers before hashing them */
#define QUEUE 16	 /* lone chunks gathered to hash side by side */

typedef struct pend {
	uint32_t have; /* bytes of the chunk present */
	uint8_t buf[CHUNK];
} pend;

/* key: chunk number for a pend, (level + 1) << 56 | index for a node */
typedef struct slot {
	uint64_t key;
	union {
		uint32_t cv[8];
		pend *p;
	} v;
} slot;

/* Bytes [start, start + len) of the file, start at a chunk boundary,
 * waiting to be hashed many chunks at once: pieces that arrive one after
 * the other (datagrams in order) append here. */
typedef struct run {
	uint64_t start;
	size_t len;
	uint64_t used; /* tick of the last append: the oldest run goes */
	int open;
	uint8_t *buf; /* run_bytes, allocated when first needed */
} run;

struct salvo_b3tree {
	salvo_mem mem;
	uint64_t size;
	uint64_t bytes;
	uint64_t chunks; /* n */
	int isa;
	slot *slots; /* open addressing, linear probing; cap a power of 2 */
	size_t cap;
	size_t count;
	size_t reserve; /* entries one add may insert at most */
	pend *spare[SPARES];
	int nspare;
	run runs[RUNS];
	int nruns;	  /* runs in use: fewer for a small file */
	size_t run_bytes; /* RUN_CHUNKS KiB, less for a small file */
	uint64_t tick;
	uint8_t (*queue)[CHUNK]; /* whole chunks from anywhere in the file */
	uint64_t queued[QUEUE];	 /* their numbers */
	size_t nqueued;
	size_t qcap; /* chunks queue holds: QUEUE, less for a small file;
		      * 0 hashes lone chunks at once (portable code, or the
		      * file's last add) */
	uint8_t single[CHUNK]; /* the bytes of a one-chunk file */
	slot sink;	       /* see put */
};

static uint64_t node_key(int level, uint64_t index)
{
	return (uint64_t)(level + 1) << 56 | index;
}

static size_t home(const salvo_b3tree *t, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) &
	       (t->cap - 1);
}

static slot *find(const salvo_b3tree *t, uint64_t key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = home(t, key);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		if (t->slots[i].key == EMPTY)
			return NULL;
	}
}

/* key is not in the table, which has room (see reserve).  Only a broken
 * contract (bytes added twice) can fill it: the entry then goes to the
 * sink, and the digest is wrong but memory safe. */
static slot *put(salvo_b3tree *t, uint64_t key)
{
	if (t->count + 1 >= t->cap)
		return &t->sink;
	size_t i = home(t, key);
	while (t->slots[i].key != EMPTY)
		i = (i + 1) & (t->cap - 1);
	t->slots[i].key = key;
	t->count++;
	return &t->slots[i];
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void drop(salvo_b3tree *t, slot *s)
{
	size_t i = (size_t)(s - t->slots), mask = t->cap - 1;
	for (size_t j = (i + 1) & mask; t->slots[j].key != EMPTY;
	     j = (j + 1) & mask) {
		size_t h = home(t, t->slots[j].key);
		/* j's entry may fill the hole at i unless its home lies
		 * cyclically in (i, j] */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].key = EMPTY;
	t->count--;
}

static int grow(salvo_b3tree *t, size_t cap)
{
	slot *old = t->slots;
	size_t old_cap = t->cap;
	slot *s = salvo_mem_array(&t->mem, cap, sizeof(*s));
	if (!s)
		return SALVO_ERR_NOMEM;
	for (size_t i = 0; i < cap; i++)
		s[i].key = EMPTY;
	t->slots = s;
	t->cap = cap;
	t->count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key != EMPTY)
			*put(t, old[i].key) = old[i];
	salvo_mem_free(&t->mem, old);
	return 0;
}

/* Room for one more add: the table at most three quarters full after
 * it, a chunk buffer for the head of the piece and one for a run that
 * closes, the queue, and a buffer for a new run if the piece extends
 * none. */
static int reserve(salvo_b3tree *t, int fresh)
{
	/* at most three quarters full after the add; never more entries
	 * than chunks, as each chunk is in one partial chunk or subtree */
	uint64_t most = t->count + t->reserve;
	if (most > t->chunks)
		most = t->chunks;
	size_t need = (size_t)most / 3 * 4 + 4;
	size_t cap = t->cap ? t->cap : 16;
	while (cap < need)
		cap *= 2;
	if (cap != t->cap && grow(t, cap))
		return SALVO_ERR_NOMEM;
	while (t->nspare < 2) {
		pend *p = salvo_mem_alloc(&t->mem, sizeof(*p));
		if (!p)
			return SALVO_ERR_NOMEM;
		t->spare[t->nspare++] = p;
	}
	if (t->qcap && !t->queue &&
	    !(t->queue = salvo_mem_array(&t->mem, t->qcap, CHUNK)))
		return SALVO_ERR_NOMEM;
	/* a buffer for a new run: a closed run's, a new one, or else the
	 * oldest run's (see new_run) */
	run *bare = NULL;
	for (int i = 0; i < t->nruns && fresh; i++) {
		if (!t->runs[i].open && t->runs[i].buf)
			return 0;
		if (!t->runs[i].buf)
			bare = &t->runs[i];
	}
	if (bare && !(bare->buf = salvo_mem_alloc(&t->mem, t->run_bytes)))
		return SALVO_ERR_NOMEM;
	return 0;
}

static uint64_t chunk_len(const salvo_b3tree *t, uint64_t c)
{
	uint64_t rest = t->size - c * CHUNK;
	return rest < CHUNK ? rest : CHUNK;
}

/* 1 when (level, index)'s parent is [0, n): then the two halves wait for
 * final, which compresses the root. */
static int parent_is_root(const salvo_b3tree *t, int level, uint64_t index)
{
	return index < 2 && level < 63 && t->chunks == (uint64_t)2 << level;
}

/* Adds node (level, index), joining it with its sibling, then the parent
 * with its own, and so on. */
static void insert(salvo_b3tree *t, int level, uint64_t index,
		   const uint32_t cv[8])
{
	uint32_t pair[16];
	memcpy(pair + 8 * (index & 1), cv, 32);
	for (;;) {
		slot *s = parent_is_root(t, level, index)
			      ? NULL
			      : find(t, node_key(level, index ^ 1));
		if (!s) {
			memcpy(put(t, node_key(level, index))->v.cv,
			       pair + 8 * (index & 1), 32);
			return;
		}
		memcpy(pair + 8 * (~index & 1), s->v.cv, 32);
		drop(t, s);
		salvo_blake3_parent_cvs(t->isa, (const uint32_t(*)[16])pair, 1,
					(uint32_t(*)[8])pair);
		index >>= 1;
		level++;
		if (index & 1)
			memcpy(pair + 8, pair, 32);
	}
}

/* Adds the m consecutive nodes (level, index) .. (level, index + m - 1):
 * pairs within the run join here, eight at a time, level by level; only
 * nodes whose sibling lies outside the run meet the table.  cvs is
 * overwritten. */
static void insert_run(salvo_b3tree *t, int level, uint64_t index,
		       uint32_t (*cvs)[8], size_t m)
{
	while (m) {
		if (index & 1) {
			insert(t, level, index++, cvs[0]);
			cvs++;
			m--;
		}
		if (m && !((index + m - 1) & 1)) {
			m--;
			insert(t, level, index + m, cvs[m]);
		}
		if (!m)
			return;
		if (parent_is_root(t, level, index)) { /* m == 2 */
			insert(t, level, index, cvs[0]);
			insert(t, level, index + 1, cvs[1]);
			return;
		}
		m /= 2;
		salvo_blake3_parent_cvs(t->isa, (const uint32_t(*)[16])cvs, m,
					cvs);
		index >>= 1;
		level++;
	}
}

/* Chunks side by side in the SIMD kernels: 16, 8, or 1 for the
 * portable code. */
static size_t lanes(const salvo_b3tree *t)
{
	return t->isa == SALVO_BLAKE3_ISA_AVX512 ? 16
	       : t->isa == SALVO_BLAKE3_ISA_AVX2 ? 8
						 : 1;
}

static void flush_queue(salvo_b3tree *t)
{
	uint32_t cvs[QUEUE][8];
	salvo_blake3_chunk_cvs_at(t->isa, t->queue[0], t->queued, t->nqueued,
				  cvs);
	for (size_t i = 0; i < t->nqueued; i++)
		insert(t, 0, t->queued[i], cvs[i]);
	t->nqueued = 0;
}

/* Chunk c of len bytes at p, complete: a whole one waits in the queue
 * for others to fill the kernel's lanes. */
static void lone_chunk(salvo_b3tree *t, uint64_t c, const uint8_t *p,
		       size_t len)
{
	if (len == CHUNK && t->qcap && lanes(t) > 1) {
		memcpy(t->queue[t->nqueued], p, CHUNK);
		t->queued[t->nqueued++] = c;
		if (t->nqueued >= lanes(t) || t->nqueued == t->qcap)
			flush_queue(t);
		return;
	}
	uint32_t cv[8];
	salvo_blake3_chunk_cv(p, len, c, cv);
	insert(t, 0, c, cv);
}

/* Chunks first .. first + m - 1, all complete, from p (the last may be
 * the file's short last chunk).  Runs of whole lanes go through the
 * kernels here; the few left over join the queue. */
static void hash_chunks(salvo_b3tree *t, uint64_t first, const uint8_t *p,
			uint64_t m)
{
	uint32_t cvs[BATCH][8];
	if (m && chunk_len(t, first + m - 1) < CHUNK) {
		m--;
		lone_chunk(t, first + m, p + m * CHUNK,
			   (size_t)chunk_len(t, first + m));
	}
	uint64_t rest = t->qcap ? m % lanes(t) : 0;
	for (uint64_t i = m - rest; i < m; i++)
		lone_chunk(t, first + i, p + i * CHUNK, CHUNK);
	m -= rest;
	while (m) {
		/* whole lanes only; from an aligned first chunk each batch
		 * joins into one node */
		size_t k = m < BATCH ? (size_t)m : BATCH;
		salvo_blake3_chunk_cvs(t->isa, p, first, k, cvs);
		insert_run(t, 0, first, cvs, k);
		first += k;
		p += k * CHUNK;
		m -= k;
	}
}

static void release(salvo_b3tree *t, pend *b)
{
	if (t->nspare < SPARES)
		t->spare[t->nspare++] = b;
	else
		salvo_mem_free(&t->mem, b);
}

/* Bytes [at, at + len) of chunk c, which they do not fill alone. */
static void add_partial(salvo_b3tree *t, uint64_t c, size_t at,
			const uint8_t *p, size_t len)
{
	slot *s = find(t, c);
	pend *b;
	if (s) {
		b = s->v.p;
	} else {
		/* reserve left a spare; only bytes added twice use more */
		b = t->nspare ? t->spare[--t->nspare]
			      : salvo_mem_alloc(&t->mem, sizeof(*b));
		s = b ? put(t, c) : NULL;
		if (!s || s == &t->sink) {
			if (b)
				release(t, b);
			return;
		}
		b->have = 0;
		s->v.p = b;
	}
	memcpy(b->buf + at, p, len);
	b->have += (uint32_t)len;
	if (b->have < chunk_len(t, c))
		return;
	drop(t, find(t, c));
	lone_chunk(t, c, b->buf, (size_t)chunk_len(t, c));
	release(t, b);
}

static uint64_t run_end(const run *r)
{
	return r->start + r->len;
}

/* Whole chunks at the front of r's buffer, the file's short last chunk
 * included; they leave the buffer. */
static void flush(salvo_b3tree *t, run *r)
{
	uint64_t m = r->len / CHUNK;
	if (run_end(r) == t->size && r->len % CHUNK)
		m++;
	if (!m)
		return;
	hash_chunks(t, r->start / CHUNK, r->buf, m);
	size_t done = m * CHUNK < r->len ? (size_t)m * CHUNK : r->len;
	memmove(r->buf, r->buf + done, r->len - done);
	r->start += done;
	r->len -= done;
}

/* Ends r: its whole chunks are hashed, its partial last one waits with
 * the chunk's other bytes. */
static void close_run(salvo_b3tree *t, run *r)
{
	flush(t, r);
	if (r->len)
		add_partial(t, r->start / CHUNK, 0, r->buf, r->len);
	r->len = 0;
	r->open = 0;
}

/* Appends len bytes at p to r.  Sixteen or more whole chunks reaching an
 * empty buffer are hashed where they are; the rest are copied and
 * hashed a buffer at a time. */
static void append(salvo_b3tree *t, run *r, const uint8_t *p, size_t len)
{
	r->used = ++t->tick;
	while (len) {
		if (!r->len && len >= 16 * CHUNK) {
			uint64_t m = len / CHUNK / 16 * 16, n = m * CHUNK;
			if (r->start + len == t->size) {
				m = t->chunks - r->start / CHUNK;
				n = len;
			}
			hash_chunks(t, r->start / CHUNK, p, m);
			r->start += n;
			p += n;
			len -= (size_t)n;
			continue;
		}
		size_t take = t->run_bytes - r->len;
		if (take > len)
			take = len;
		memcpy(r->buf + r->len, p, take);
		r->len += take;
		p += take;
		len -= take;
		if (r->len == t->run_bytes || run_end(r) == t->size)
			flush(t, r);
	}
}

static run *run_ending_at(salvo_b3tree *t, uint64_t at)
{
	for (int i = 0; i < RUNS; i++)
		if (t->runs[i].open && run_end(&t->runs[i]) == at)
			return &t->runs[i];
	return NULL;
}

/* The open run that ends inside chunk c, after its first byte. */
static run *run_ending_in(salvo_b3tree *t, uint64_t c)
{
	for (int i = 0; i < RUNS; i++) {
		uint64_t e = run_end(&t->runs[i]);
		if (t->runs[i].open && e / CHUNK == c && e % CHUNK)
			return &t->runs[i];
	}
	return NULL;
}

/* Grows r over what already follows it: the rest of its last chunk when
 * that is all here, then the run that starts where r ends. */
static void settle(salvo_b3tree *t, run *r)
{
	for (;;) {
		uint64_t e = run_end(r), c = e / CHUNK;
		size_t at = (size_t)(e % CHUNK);
		if (e == t->size)
			return;
		if (at) {
			slot *s = find(t, c);
			if (!s || s->v.p->have + at != chunk_len(t, c))
				return;
			pend *b = s->v.p;
			drop(t, s);
			append(t, r, b->buf + at, (size_t)chunk_len(t, c) - at);
			release(t, b);
			continue;
		}
		run *next = NULL;
		for (int i = 0; i < RUNS; i++)
			if (t->runs[i].open && t->runs[i].start == e &&
			    &t->runs[i] != r)
				next = &t->runs[i];
		if (!next)
			return;
		append(t, r, next->buf, next->len);
		next->len = 0;
		next->open = 0;
	}
}

int salvo_b3tree_new(salvo_b3tree **out, const salvo_mem *mem, uint64_t size)
{
	salvo_b3tree *t = salvo_mem_alloc(mem, sizeof(*t));
	if (!t)
		return SALVO_ERR_NOMEM;
	memset(t, 0, sizeof(*t));
	t->mem = *mem;
	t->size = size;
	t->chunks = size ? (size - 1) / CHUNK + 1 : 1;
	t->isa = salvo_blake3_cpu_isa();
	int depth = 0;
	while (depth < 63 && ((uint64_t)1 << depth) < t->chunks)
		depth++;
	/* The table holds the partial chunks and the maximal aligned
	 * subtrees of the chunks hashed so far.  Hashing one range of
	 * chunks adds at most the subtrees of one interval, two per level
	 * (and the root's two halves); one add hashes at most four ranges
	 * (a run that settles, a run evicted, the piece's own run, the
	 * head's) plus, at the end, every run; lone chunks add one each:
	 * the queue's, the heads and tails, remainders of runs. */
	t->reserve = (RUNS + 4) * (size_t)(2 * depth + 3) + 4 * QUEUE;
	t->run_bytes = RUN_CHUNKS * CHUNK;
	if (t->chunks < RUN_CHUNKS)
		t->run_bytes = (size_t)t->chunks * CHUNK;
	t->nruns = (int)(t->chunks / RUN_CHUNKS < RUNS ? t->chunks / RUN_CHUNKS
						       : RUNS);
	if (!t->nruns)
		t->nruns = 1;
	if (lanes(t) > 1)
		t->qcap = t->chunks < QUEUE ? (size_t)t->chunks : QUEUE;
	*out = t;
	return 0;
}

void salvo_b3tree_del(salvo_b3tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key != EMPTY && !(t->slots[i].key >> 56))
			salvo_mem_free(&t->mem, t->slots[i].v.p);
	for (int i = 0; i < t->nspare; i++)
		salvo_mem_free(&t->mem, t->spare[i]);
	for (int i = 0; i < RUNS; i++)
		salvo_mem_free(&t->mem, t->runs[i].buf);
	salvo_mem_free(&t->mem, t->queue);
	salvo_mem_free(&t->mem, t->slots);
	salvo_mem_free(&t->mem, t);
}

void salvo_b3tree_limit_isa(salvo_b3tree *t, int isa)
{
	if (isa < t->isa)
		t->isa = isa;
	if (lanes(t) == 1)
		t->qcap = 0;
}

/* A run from at (a chunk boundary): a closed run's buffer, or the one
 * reserve allocated, or the oldest run's. */
static run *new_run(salvo_b3tree *t, uint64_t at)
{
	run *r = NULL;
	for (int i = 0; i < t->nruns && !r; i++)
		if (!t->runs[i].open && t->runs[i].buf)
			r = &t->runs[i];
	if (!r)
		for (int i = 0; i < t->nruns; i++)
			if (!r || t->runs[i].used < r->used)
				r = &t->runs[i];
	if (r->open)
		close_run(t, r);
	r->open = 1;
	r->start = at;
	r->len = 0;
	return r;
}

int salvo_b3tree_add(salvo_b3tree *t, uint64_t offset, const void *p,
		     size_t len)
{
	const uint8_t *b = p;
	if (offset > t->size || len > t->size - offset ||
	    len > t->size - t->bytes) /* past the end, or added twice */
		return SALVO_ERR_INVAL;
	if (!len)
		return 0;
	if (t->chunks == 1) {
		memcpy(t->single + offset, b, len);
		t->bytes += len;
		return 0;
	}
	run *r = run_ending_at(t, offset);
	if (reserve(t, !r))
		return SALVO_ERR_NOMEM;
	t->bytes += len;
	if (!r && offset % CHUNK) {
		/* the head of a chunk begun elsewhere waits with it, and
		 * may complete a run that ends in that chunk */
		uint64_t c = offset / CHUNK, head = (c + 1) * CHUNK - offset;
		if (head > len)
			head = len;
		add_partial(t, c, (size_t)(offset % CHUNK), b, (size_t)head);
		run *before = run_ending_in(t, c);
		if (before)
			settle(t, before);
		offset += head;
		b += head;
		len -= (size_t)head;
		r = run_ending_at(t, offset);
	}
	if (len) {
		if (!r)
			r = new_run(t, offset);
		append(t, r, b, len);
		settle(t, r);
	}
	if (t->bytes == t->size) { /* the last add: hash all that waits */
		t->qcap = 0;
		for (int i = 0; i < RUNS; i++)
			if (t->runs[i].open)
				close_run(t, &t->runs[i]);
		if (t->nqueued)
			flush_queue(t);
	}
	return 0;
}

uint64_t salvo_b3tree_bytes(const salvo_b3tree *t)
{
	return t->bytes;
}

int salvo_b3tree_is_complete(const salvo_b3tree *t)
{
	return t->bytes == t->size;
}

/* Copies node (level, index) out; SALVO_ERR_INVAL if absent, which
 * only a broken contract (a byte added twice and another never) causes. */
static int node_cv(const salvo_b3tree *t, int level, uint64_t index,
		   uint32_t cv[8])
{
	const slot *s = find(t, node_key(level, index));
	if (!s)
		return SALVO_ERR_INVAL;
	memcpy(cv, s->v.cv, 32);
	return 0;
}

int salvo_b3tree_final(const salvo_b3tree *t, uint8_t out[32])
{
	if (t->bytes != t->size)
		return SALVO_ERR_INVAL;
	if (t->chunks == 1) {
		salvo_blake3_hash(t->single, (size_t)t->size, out);
		return 0;
	}
	/* the binary decomposition of n, largest subtree first; a power
	 * of two is its two halves */
	uint32_t cvs[SALVO_BLAKE3_MAX_DEPTH + 2][8];
	int k = 0;
	uint64_t at = 0;
	for (int l = 63; l >= 0; l--) {
		uint64_t w = (uint64_t)1 << l;
		if (!(t->chunks & w))
			continue;
		if (t->chunks == w) {
			if (node_cv(t, l - 1, 0, cvs[k++]) ||
			    node_cv(t, l - 1, 1, cvs[k++]))
				return SALVO_ERR_INVAL;
			break;
		}
		if (node_cv(t, l, at >> l, cvs[k++]))
			return SALVO_ERR_INVAL;
		at += w;
	}
	uint32_t pair[16];
	memcpy(pair + 8, cvs[k - 1], 32);
	for (int i = k - 2; i > 0; i--) {
		memcpy(pair, cvs[i], 32);
		salvo_blake3_parent_cvs(t->isa, (const uint32_t(*)[16])pair, 1,
					(uint32_t(*)[8])(pair + 8));
	}
	salvo_blake3_parent_root(cvs[0], pair + 8, out);
	return 0;
}
