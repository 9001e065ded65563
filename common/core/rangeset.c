/*
 * Sorted-array range set with tags.  Invariants after every call: ranges
 * are non-empty, sorted, non-overlapping; two touching ranges have
 * different tags; `bytes` is the sum of lengths.  Every edit is "cut the
 * affected span out, put the new pieces in, merge at the two seams", which
 * keeps the invariants in one place (splice()).
 */
#include "common/core/rangeset.h"

#include <string.h>

#include "common/core/error.h"

void salvo_rangeset_init(salvo_rangeset *rs, const salvo_mem *mem)
{
	memset(rs, 0, sizeof(*rs));
	rs->mem = mem;
}

void salvo_rangeset_free(salvo_rangeset *rs)
{
	salvo_mem_free(rs->mem, rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
	rs->bytes = 0;
}

size_t salvo_rangeset_lower_bound(const salvo_rangeset *rs, uint64_t x)
{
	size_t lo = 0, hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rs->r[mid].end <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(salvo_rangeset *rs, size_t need)
{
	if (need <= rs->cap)
		return 0;
	size_t cap = rs->cap ? rs->cap * 2 : 8;
	while (cap < need)
		cap *= 2;
	if (cap > (size_t)-1 / sizeof(salvo_trange))
		return SALVO_ERR_NOMEM;
	salvo_trange *r =
	    salvo_mem_realloc(rs->mem, rs->r, cap * sizeof(salvo_trange));
	if (!r)
		return SALVO_ERR_NOMEM;
	rs->r = r;
	rs->cap = cap;
	return 0;
}

/* Merges r[i] with r[i+1] when they touch and share a tag. */
static void merge_at(salvo_rangeset *rs, size_t i)
{
	if (i + 1 >= rs->n || i >= rs->n)
		return;
	salvo_trange *a = &rs->r[i], *b = &rs->r[i + 1];
	if (a->end == b->start && a->tag == b->tag) {
		a->end = b->end;
		memmove(b, b + 1, (rs->n - i - 2) * sizeof(*b));
		rs->n--;
	}
}

/* Replaces ranges [first, last) with the k pieces in `with`, then merges
 * at both seams. */
static int splice(salvo_rangeset *rs, size_t first, size_t last,
		  const salvo_trange *with, size_t k)
{
	size_t removed = last - first;
	if (k > removed && reserve(rs, rs->n + k - removed))
		return SALVO_ERR_NOMEM;
	for (size_t i = first; i < last; i++)
		rs->bytes -= rs->r[i].end - rs->r[i].start;
	memmove(rs->r + first + k, rs->r + last,
		(rs->n - last) * sizeof(salvo_trange));
	for (size_t i = 0; i < k; i++) {
		rs->r[first + i] = with[i];
		rs->bytes += with[i].end - with[i].start;
	}
	rs->n = rs->n - removed + k;
	if (k)
		merge_at(rs, first + k - 1);
	if (first)
		merge_at(rs, first - 1);
	return 0;
}

int salvo_rangeset_add(salvo_rangeset *rs, uint64_t start, uint64_t end,
		       uint64_t tag)
{
	if (start >= end)
		return 0;
	/* the span [first, last) of ranges that overlap or touch us */
	size_t first = salvo_rangeset_lower_bound(rs, start);
	if (first > 0 && rs->r[first - 1].end == start)
		first--;
	size_t last = first;
	while (last < rs->n && rs->r[last].start <= end)
		last++;
	salvo_trange with[3];
	size_t k = 0;
	uint64_t s = start;
	if (last > first) {
		const salvo_trange *l = &rs->r[first], *r = &rs->r[last - 1];
		if (l->start < start) {
			if (l->tag == tag)
				s = l->start;
			else
				with[k++] =
				    (salvo_trange){l->start, start, l->tag};
		}
		with[k++] = (salvo_trange){s, end, tag};
		if (r->end > end) {
			if (r->tag == tag)
				with[k - 1].end = r->end;
			else
				with[k++] = (salvo_trange){
				    r->start > end ? r->start : end, r->end,
				    r->tag};
		}
	} else {
		with[k++] = (salvo_trange){start, end, tag};
	}
	return splice(rs, first, last, with, k);
}

int salvo_rangeset_remove(salvo_rangeset *rs, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	size_t first = salvo_rangeset_lower_bound(rs, start), last = first;
	while (last < rs->n && rs->r[last].start < end)
		last++;
	if (first == last)
		return 0;
	salvo_trange with[2];
	size_t k = 0;
	if (rs->r[first].start < start)
		with[k++] =
		    (salvo_trange){rs->r[first].start, start, rs->r[first].tag};
	if (rs->r[last - 1].end > end)
		with[k++] = (salvo_trange){end, rs->r[last - 1].end,
					   rs->r[last - 1].tag};
	return splice(rs, first, last, with, k);
}

void salvo_rangeset_remove_below(salvo_rangeset *rs, uint64_t x)
{
	if (!rs->n)
		return;
	size_t i = salvo_rangeset_lower_bound(rs, x);
	if (i < rs->n && rs->r[i].start < x) {
		rs->bytes -= x - rs->r[i].start;
		rs->r[i].start = x;
	}
	for (size_t j = 0; j < i; j++)
		rs->bytes -= rs->r[j].end - rs->r[j].start;
	memmove(rs->r, rs->r + i, (rs->n - i) * sizeof(salvo_trange));
	rs->n -= i;
}

int salvo_rangeset_retag(salvo_rangeset *rs, uint64_t start, uint64_t end,
			 uint64_t old_tag, uint64_t new_tag)
{
	if (old_tag == new_tag || start >= end)
		return 0;
	size_t i = salvo_rangeset_lower_bound(rs, start);
	while (i < rs->n && rs->r[i].start < end) {
		salvo_trange o = rs->r[i];
		if (o.tag != old_tag) {
			i++;
			continue;
		}
		uint64_t s = o.start > start ? o.start : start;
		uint64_t e = o.end < end ? o.end : end;
		int err = salvo_rangeset_add(rs, s, e, new_tag);
		if (err)
			return err;
		i = salvo_rangeset_lower_bound(rs, e);
	}
	return 0;
}

int salvo_rangeset_covers(const salvo_rangeset *rs, uint64_t start,
			  uint64_t end)
{
	if (start >= end)
		return 1;
	size_t i = salvo_rangeset_lower_bound(rs, start);
	while (i < rs->n && rs->r[i].start <= start) {
		if (rs->r[i].end >= end)
			return 1;
		start = rs->r[i].end;
		i++;
	}
	return 0;
}

int salvo_rangeset_intersects(const salvo_rangeset *rs, uint64_t start,
			      uint64_t end)
{
	if (start >= end)
		return 0;
	size_t i = salvo_rangeset_lower_bound(rs, start);
	return i < rs->n && rs->r[i].start < end;
}

uint64_t salvo_rangeset_max_tag(const salvo_rangeset *rs, uint64_t start,
				uint64_t end)
{
	uint64_t m = 0;
	for (size_t i = salvo_rangeset_lower_bound(rs, start);
	     i < rs->n && rs->r[i].start < end; i++)
		if (rs->r[i].tag > m)
			m = rs->r[i].tag;
	return m;
}
