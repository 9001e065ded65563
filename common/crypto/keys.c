/*
 * Text forms of keys and the two key files a person edits.  Lines are
 * parsed as byte ranges, never as C strings, so a NUL is seen; any
 * control character refuses the line, and text quoted back in a message
 * has every byte outside printable ASCII replaced by '?', so a file cannot
 * put terminal escapes into the receiver's log.  The authorised-keys
 * parser collects every error before it returns, so one run names them
 * all, and then keeps nothing: a receiver never starts on half a file.
 */
#include "common/crypto/keys.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/error.h"
#include "common/core/path.h"
#include "common/core/policy.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define FP_BYTES 16

/* -------------------------------------------------------------- keys */

void salvo_key_private_text(char out[SALVO_KEY_PRIVATE_TEXT_SIZE],
			    const uint8_t priv[SALVO_KEY_BYTES])
{
	char b64[SALVO_KEY_B64_SIZE];
	sodium_bin2base64(b64, sizeof(b64), priv, SALVO_KEY_BYTES, B64);
	snprintf(out, SALVO_KEY_PRIVATE_TEXT_SIZE, "%s\n%s\n",
		 SALVO_KEY_PRIVATE_MAGIC, b64);
	sodium_memzero(b64, sizeof(b64));
}

/* Decodes exactly 32 bytes of padded base64 from b64[0, len). */
static int key_from_b64(uint8_t key[SALVO_KEY_BYTES], const char *b64,
			size_t len)
{
	uint8_t tmp[SALVO_KEY_BYTES + 3];
	size_t n = 0;
	const char *end = NULL;
	int ok = sodium_base642bin(tmp, sizeof(tmp), b64, len, NULL, &n, &end,
				   B64) == 0 &&
		 n == SALVO_KEY_BYTES && end == b64 + len;
	if (ok)
		memcpy(key, tmp, SALVO_KEY_BYTES);
	sodium_memzero(tmp, sizeof(tmp));
	return ok ? 0 : SALVO_ERR_KEY;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return SALVO_ERR_KEY;
}

int salvo_key_private_parse(const char *text, size_t len,
			    uint8_t priv[SALVO_KEY_BYTES], const char **why)
{
	size_t m = sizeof(SALVO_KEY_PRIVATE_MAGIC) - 1;
	if (len < m + 1 || memcmp(text, SALVO_KEY_PRIVATE_MAGIC, m) ||
	    text[m] != '\n')
		return fail(
		    why,
		    "does not start with the line '" SALVO_KEY_PRIVATE_MAGIC
		    "'");
	const char *b = text + m + 1;
	size_t n = len - m - 1;
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || blank(b[n - 1])))
		n--;
	if (key_from_b64(priv, b, n))
		return fail(why, "the second line is not 32 bytes of base64");
	return 0;
}

int salvo_key_public_text(char *out, size_t cap,
			  const uint8_t pub[SALVO_KEY_BYTES],
			  const char *comment)
{
	char b64[SALVO_KEY_B64_SIZE];
	size_t n;

	sodium_bin2base64(b64, sizeof(b64), pub, SALVO_KEY_BYTES, B64);
	int w = snprintf(out, cap, "%s %s", SALVO_KEY_TYPE, b64);
	if (w < 0 || (size_t)w >= cap)
		goto toobig;
	n = (size_t)w;
	if (comment && *comment) {
		size_t c = strlen(comment);
		if (cap - n < c + 2)
			goto toobig;
		out[n++] = ' ';
		for (size_t i = 0; i < c; i++) {
			unsigned char ch = (unsigned char)comment[i];
			out[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		}
		out[n] = '\0';
	}
	return (int)n;
toobig:
	if (cap)
		out[0] = '\0';
	return SALVO_ERR_TOOBIG;
}

/* The next word of p[0, n) from *i: [*start, *end); *i moves past it. */
static int next_word(const char *p, size_t n, size_t *i, size_t *start,
		     size_t *end)
{
	while (*i < n && blank(p[*i]))
		(*i)++;
	*start = *i;
	while (*i < n && !blank(p[*i]))
		(*i)++;
	*end = *i;
	return *end > *start;
}

static int word_is(const char *p, size_t s, size_t e, const char *w)
{
	return e - s == strlen(w) && !memcmp(p + s, w, e - s);
}

int salvo_key_public_parse(const char *text, size_t len,
			   uint8_t pub[SALVO_KEY_BYTES], const char **why)
{
	size_t i = 0, s, e;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (!next_word(text, len, &i, &s, &e) ||
	    !word_is(text, s, e, SALVO_KEY_TYPE))
		return fail(why, "does not start with " SALVO_KEY_TYPE);
	if (!next_word(text, len, &i, &s, &e) ||
	    key_from_b64(pub, text + s, e - s))
		return fail(why, "the key is not 32 bytes of base64");
	for (size_t j = 0; j < len; j++)
		if ((unsigned char)text[j] < 0x20 && text[j] != '\t')
			return fail(why, "control character in the line");
	return 0;
}

void salvo_key_fingerprint(char out[SALVO_FINGERPRINT_SIZE],
			   const uint8_t pub[SALVO_KEY_BYTES])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), pub, SALVO_KEY_BYTES, NULL, 0);
	memcpy(out, "b2:", 3);
	sodium_bin2base64(out + 3, SALVO_FINGERPRINT_SIZE - 3, h, FP_BYTES,
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* ------------------------------------------------------------- diag */

void salvo_keys_diag_init(salvo_keys_diag *d)
{
	d->text[0] = '\0';
	d->len = 0;
	d->count = 0;
	d->dropped = 0;
}

static void report(salvo_keys_diag *d, const char *name, unsigned line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(salvo_keys_diag *d, const char *name, unsigned line,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	d->count++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int w = snprintf(d->text + d->len, sizeof(d->text) - d->len,
			 "%s:%u: %s\n", name, line, msg);
	if (w < 0 || (size_t)w >= sizeof(d->text) - d->len) {
		d->text[d->len] = '\0';
		d->dropped++;
		return;
	}
	d->len += (size_t)w;
}

/* p[0, n) for a message: at most 48 bytes, non-printable bytes as '?'. */
static const char *shown(char out[64], const char *p, size_t n)
{
	size_t k = n > 48 ? 48 : n, j = 0;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)p[i];
		out[j++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	if (n > k) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
	return out;
}

/* ---------------------------------------------------- authorised keys */

void salvo_authkeys_init(salvo_authkeys *ak)
{
	memset(ak, 0, sizeof(*ak));
}

void salvo_authkeys_free(salvo_authkeys *ak)
{
	for (size_t i = 0; i < ak->count; i++) {
		free(ak->keys[i].dir);
		free(ak->keys[i].comment);
	}
	free(ak->keys);
	salvo_authkeys_init(ak);
}

static char *dup_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static const char *const overwrite_names[] = {
    [SALVO_OVERWRITE_NEVER] = "never",
    [SALVO_OVERWRITE_REPLACE] = "replace",
    [SALVO_OVERWRITE_RENAME] = "rename",
};
#define N_OVERWRITE (sizeof(overwrite_names) / sizeof(overwrite_names[0]))

/* "never,replace" into a mask; 0 when a name is unknown or empty. */
static unsigned overwrite_mask(const char *v, size_t n)
{
	unsigned mask = 0;
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		size_t k;
		for (k = 0; k < N_OVERWRITE; k++)
			if (word_is(v, s, i, overwrite_names[k]))
				break;
		if (k == N_OVERWRITE)
			return 0;
		mask |= 1u << k;
		s = i + 1;
	}
	return mask;
}

/* A count of 1 or more in decimal digits; 0 when not one. */
static uint64_t count_of(const char *v, size_t n)
{
	uint64_t x = 0;
	if (!n || n > 19)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	return x;
}

typedef struct line_in {
	const char *name;
	unsigned line;
	salvo_keys_diag *diag;
	salvo_size_parser parse_size;
	int errors;
} line_in;

#define BAD(in, ...)                                                           \
	do {                                                                   \
		report((in)->diag, (in)->name, (in)->line, __VA_ARGS__);       \
		(in)->errors++;                                                \
	} while (0)

/* One option NAME=VALUE (value already unquoted) into k; *seen tracks
 * options given, by bit. */
static void option(line_in *in, salvo_authkey *k, unsigned *seen,
		   const char *nm, size_t nn, const char *v, size_t vn)
{
	static const char *const names[] = {"dir", "max-bytes", "max-files",
					    "overwrite"};
	char a[64], b[64], err[160];
	unsigned o;

	for (o = 0; o < 4; o++)
		if (word_is(nm, 0, nn, names[o]))
			break;
	if (o == 4) {
		BAD(in,
		    "unknown option '%s'; allowed: dir, max-bytes, max-files, "
		    "overwrite (a comment may follow them, or start with #)",
		    shown(a, nm, nn));
		return;
	}
	if (*seen & (1u << o)) {
		BAD(in, "%s given twice", names[o]);
		return;
	}
	*seen |= 1u << o;
	if (o == 0) {
		const char *why = NULL;
		if (salvo_path_check(v, vn, &why)) {
			BAD(in,
			    "dir=%s: %s; allowed: a folder below the "
			    "receiver's root, relative, without '.', '..' or "
			    "empty components",
			    shown(a, v, vn), why);
			return;
		}
		if (!(k->dir = dup_range(v, vn)))
			in->errors = -1;
	} else if (o == 1) {
		char text[64];
		int bad = vn >= sizeof(text);
		err[0] = '\0';
		if (!bad) {
			memcpy(text, v, vn);
			text[vn] = '\0';
			if (in->parse_size)
				bad = in->parse_size(text, &k->max_bytes, err,
						     sizeof(err)) != 0;
			else if (!(k->max_bytes = count_of(v, vn)))
				bad = 1;
		}
		for (char *c = err; *c; c++) /* it may quote the value */
			if ((unsigned char)*c < 0x20 ||
			    (unsigned char)*c >= 0x7f)
				*c = '?';
		if (bad || !k->max_bytes)
			BAD(in,
			    "max-bytes=%s: %s; allowed: a size of at least 1 "
			    "byte (leave it out for no limit)",
			    shown(a, v, vn), err[0] ? err : "not a size");
	} else if (o == 2) {
		if (!(k->max_files = count_of(v, vn)))
			BAD(in,
			    "max-files=%s: not a count; allowed: 1 or more "
			    "(leave it out for no limit)",
			    shown(a, v, vn));
	} else if (!(k->overwrite = overwrite_mask(v, vn))) {
		BAD(in,
		    "overwrite=%s: allowed: never, replace, rename, or several "
		    "joined by commas",
		    shown(b, v, vn));
	}
}

/* Parses line p[0, n) into k; returns 0 (an entry), 1 (blank or comment
 * line), or -1 (errors reported or out of memory: in->errors). */
static int parse_line(line_in *in, const char *p, size_t n, salvo_authkey *k)
{
	size_t i = 0, s, e;
	unsigned seen = 0;
	char a[64];

	memset(k, 0, sizeof(*k));
	k->line = in->line;
	k->overwrite = 1u << SALVO_OVERWRITE_NEVER;
	if (n && p[n - 1] == '\r')
		n--;
	for (size_t j = 0; j < n; j++) {
		unsigned char c = (unsigned char)p[j];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			BAD(in, "control character 0x%02x at column %zu", c,
			    j + 1);
			return -1;
		}
	}
	if (!next_word(p, n, &i, &s, &e) || p[s] == '#')
		return 1;
	if (!word_is(p, s, e, SALVO_KEY_TYPE)) {
		BAD(in,
		    "starts with '%s'; expected " SALVO_KEY_TYPE
		    " and a key (the line of a .pub file from salvo keygen)",
		    shown(a, p + s, e - s));
		return -1;
	}
	if (!next_word(p, n, &i, &s, &e) ||
	    key_from_b64(k->key, p + s, e - s)) {
		BAD(in, "the key '%s' is not 32 bytes of base64",
		    shown(a, p + s, e - s));
		return -1;
	}
	for (;;) {
		while (i < n && blank(p[i]))
			i++;
		if (i == n)
			break;
		size_t ns = i, eq = i;
		while (eq < n && !blank(p[eq]) && p[eq] != '=')
			eq++;
		if (p[ns] == '#' || eq == n || p[eq] != '=') {
			size_t end = n;
			while (end > ns && blank(p[end - 1]))
				end--;
			if (!(k->comment = dup_range(p + ns, end - ns)))
				goto nomem;
			break;
		}
		size_t vs = eq + 1, ve;
		if (vs < n && p[vs] == '"') {
			const char *q = memchr(p + vs + 1, '"', n - vs - 1);
			if (!q) {
				BAD(in, "unterminated quote after %s=",
				    shown(a, p + ns, eq - ns));
				break;
			}
			vs++;
			ve = (size_t)(q - p);
			i = ve + 1;
			if (i < n && !blank(p[i])) {
				BAD(in,
				    "%s=: a blank must follow the closing "
				    "quote",
				    shown(a, p + ns, eq - ns));
				break;
			}
		} else {
			ve = vs;
			while (ve < n && !blank(p[ve]))
				ve++;
			i = ve;
		}
		option(in, k, &seen, p + ns, eq - ns, p + vs, ve - vs);
		if (in->errors < 0)
			goto nomem;
	}
	if (!k->comment && !(k->comment = dup_range("", 0)))
		goto nomem;
	if (!k->dir && !(seen & 1u)) {
		BAD(in, "no dir=FOLDER: each key needs the folder below the "
			"receiver's root it may write to");
	}
	return in->errors ? -1 : 0;
nomem:
	in->errors = -1;
	return -1;
}

static void free_entry(salvo_authkey *k)
{
	free(k->dir);
	free(k->comment);
	memset(k, 0, sizeof(*k));
}

static int append(salvo_authkeys *ak, const salvo_authkey *k)
{
	if (ak->count == ak->cap) {
		size_t cap = ak->cap ? ak->cap * 2 : 16;
		salvo_authkey *nk = realloc(ak->keys, cap * sizeof(*nk));
		if (!nk)
			return SALVO_ERR_NOMEM;
		ak->keys = nk;
		ak->cap = cap;
	}
	ak->keys[ak->count++] = *k;
	return 0;
}

int salvo_authkeys_parse(salvo_authkeys *ak, const char *name, const char *buf,
			 size_t len, salvo_size_parser parse_size,
			 salvo_keys_diag *diag)
{
	line_in in = {name, 0, diag, parse_size, 0};
	unsigned bad = 0;
	int err = 0;

	salvo_authkeys_free(ak);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		salvo_authkey k;
		in.line++;
		in.errors = 0;
		int r = parse_line(&in, buf + pos, end - pos, &k);
		pos = end + 1;
		if (in.errors < 0) {
			free_entry(&k);
			err = SALVO_ERR_NOMEM;
			goto fail;
		}
		if (r) {
			free_entry(&k);
			bad += r < 0;
			continue;
		}
		const salvo_authkey *dup = salvo_authkeys_find(ak, k.key);
		if (dup) {
			char fp[SALVO_FINGERPRINT_SIZE];
			salvo_key_fingerprint(fp, k.key);
			report(diag, name, in.line,
			       "key %s is already authorised on line %u; "
			       "allowed: one line per key",
			       fp, dup->line);
			free_entry(&k);
			bad++;
			continue;
		}
		if (append(ak, &k)) {
			free_entry(&k);
			err = SALVO_ERR_NOMEM;
			goto fail;
		}
	}
	if (!bad)
		return 0;
	err = SALVO_ERR_INVAL;
fail:
	salvo_authkeys_free(ak);
	return err;
}

const salvo_authkey *salvo_authkeys_find(const salvo_authkeys *ak,
					 const uint8_t key[SALVO_KEY_BYTES])
{
	const salvo_authkey *found = NULL;
	for (size_t i = 0; i < ak->count; i++)
		if (sodium_memcmp(ak->keys[i].key, key, SALVO_KEY_BYTES) == 0 &&
		    !found)
			found = &ak->keys[i];
	return found;
}

/* -------------------------------------------------------- known hosts */

static int host_ok(const char *host)
{
	if (!*host)
		return 0;
	for (const char *c = host; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    *c == '#')
			return 0;
	return 1;
}

int salvo_known_hosts_line(char *out, size_t cap, const char *host,
			   const uint8_t key[SALVO_KEY_BYTES])
{
	char pub[128];

	if (!host_ok(host))
		return SALVO_ERR_INVAL;
	salvo_key_public_text(pub, sizeof(pub), key, NULL);
	int w = snprintf(out, cap, "%s %s\n", host, pub);
	if (w < 0 || (size_t)w >= cap) {
		if (cap)
			out[0] = '\0';
		return SALVO_ERR_TOOBIG;
	}
	return w;
}

/* Walks the known-hosts lines of buf[0, len) that name host, calling
 * each(ud, key, line) until it returns non-zero (which is returned);
 * SALVO_ERR_INVAL with a message for a malformed line; 0 at the end. */
static int
each_host_line(const char *name, const char *buf, size_t len, const char *host,
	       int (*each)(void *ud, const uint8_t *k, unsigned line), void *ud,
	       char *err, size_t errlen)
{
	unsigned line = 0;

	if (errlen)
		err[0] = '\0';
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *p = buf + pos;
		size_t n = end - pos, i = 0, s, e;
		line++;
		pos = end + 1;
		if (!next_word(p, n, &i, &s, &e) || p[s] == '#')
			continue;
		const char *why = NULL;
		uint8_t k[SALVO_KEY_BYTES];
		if (salvo_key_public_parse(p + i, n - i, k, &why)) {
			snprintf(err, errlen,
				 "%s:%u: %s: expected HOST " SALVO_KEY_TYPE
				 " KEY [comment]; fix or delete the line",
				 name, line, why);
			return SALVO_ERR_INVAL;
		}
		if (!word_is(p, s, e, host))
			continue;
		int rc = each(ud, k, line);
		if (rc)
			return rc;
	}
	return 0;
}

struct check_walk {
	const uint8_t *key;
	unsigned other_line;
	uint8_t other[SALVO_KEY_BYTES];
};

static int check_line(void *ud, const uint8_t *k, unsigned line)
{
	struct check_walk *w = ud;
	if (sodium_memcmp(k, w->key, SALVO_KEY_BYTES) == 0)
		return 1;
	if (!w->other_line) {
		w->other_line = line;
		memcpy(w->other, k, sizeof(w->other));
	}
	return 0;
}

int salvo_known_hosts_check(const char *name, const char *buf, size_t len,
			    const char *host,
			    const uint8_t key[SALVO_KEY_BYTES], char *err,
			    size_t errlen)
{
	struct check_walk w = {.key = key};
	char a[64];
	int rc =
	    each_host_line(name, buf, len, host, check_line, &w, err, errlen);

	if (rc < 0)
		return rc;
	if (rc)
		return SALVO_KNOWN_MATCH;
	if (!w.other_line)
		return SALVO_KNOWN_NEW;
	char now_fp[SALVO_FINGERPRINT_SIZE], was_fp[SALVO_FINGERPRINT_SIZE];
	salvo_key_fingerprint(now_fp, key);
	salvo_key_fingerprint(was_fp, w.other);
	snprintf(err, errlen,
		 "%s:%u: the receiver %s presents key %s, but this file pins "
		 "key %s for it. If its key was replaced on purpose (check "
		 "with its owner: salvo keygen prints the fingerprint), "
		 "delete line %u of %s and connect again to pin the new "
		 "key; otherwise someone may be intercepting the transfer, "
		 "so nothing was sent",
		 name, w.other_line, shown(a, host, strlen(host)), now_fp,
		 was_fp, w.other_line, name);
	return SALVO_ERR_KEY;
}

static int find_line(void *ud, const uint8_t *k, unsigned line)
{
	(void)line;
	memcpy(ud, k, SALVO_KEY_BYTES);
	return 1;
}

int salvo_known_hosts_find(const char *name, const char *buf, size_t len,
			   const char *host, uint8_t key[SALVO_KEY_BYTES],
			   char *err, size_t errlen)
{
	return each_host_line(name, buf, len, host, find_line, key, err,
			      errlen);
}
