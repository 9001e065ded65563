/*
 * Path checks for names that arrive in a manifest.  Works on bytes, not
 * on C strings, so an embedded NUL is seen rather than silently cutting
 * the name short.
 */
#include "common/core/path.h"

#include "common/core/error.h"

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return SALVO_ERR_PATH;
}

/* 1 if the component p[0..n) names SALVO_PATH_PRIVATE, in any ASCII
 * case. */
static int is_private(const char *p, size_t n)
{
	static const char name[] = SALVO_PATH_PRIVATE;
	if (n != sizeof(name) - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)name[i])
			return 0;
	}
	return 1;
}

int salvo_path_check(const char *path, size_t len, const char **why)
{
	if (len == 0)
		return fail(why, "empty path");
	if (len > SALVO_PATH_MAX)
		return fail(why, "path too long");
	if (path[0] == '/')
		return fail(why, "absolute path");
	size_t comp = 0; /* start of the current component */
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)path[i] : '/';
		if (c == 0)
			return fail(why, "NUL byte in path");
		if (c < 0x20 || c == 0x7f)
			return fail(why, "control character in path");
		if (c != '/')
			continue;
		size_t n = i - comp;
		if (n == 0)
			return fail(why, "empty path component");
		if (n > SALVO_NAME_MAX)
			return fail(why, "path component too long");
		if (path[comp] == '.' &&
		    (n == 1 || (n == 2 && path[comp + 1] == '.')))
			return fail(why, n == 1 ? "'.' component"
						: "'..' component");
		if (comp == 0 && is_private(path, n))
			return fail(why, "'" SALVO_PATH_PRIVATE
					 "' is the receiver's private folder");
		comp = i + 1;
	}
	return 0;
}
