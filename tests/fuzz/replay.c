/*
 * A main for libFuzzer targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once over every file it is given, or every
 * regular file in each folder it is given (one level, in name order, so
 * two runs replay the same sequence).  Linked with each tests/fuzz/fuzz_*.c
 * under gcc with ASan and UBSan, it turns the seed corpus and any crash
 * input kept from a fuzzing run into plain regression tests.
 *
 *   replay [-v] PATH...   exit 0 when every input ran, 1 when a path is
 *                         missing or unreadable or no input was found;
 *                         a bug in the target aborts (sanitizer report)
 *
 * Each input is copied into a buffer of exactly its size, so a read past
 * its end is an ASan error as it would be under libFuzzer.  Before each
 * input its path goes to stderr (with -v, or always when
 * SALVO_REPLAY_VERBOSE is set): the last path printed before a crash is
 * the input that caused it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

typedef struct replay {
	int verbose;
	unsigned long inputs;
	int errors;
} replay;

static int run_file(replay *r, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int err = ferror(f);
	fclose(f);
	if (!buf || err) {
		fprintf(stderr, "replay: %s: %s\n", path,
			buf ? "read error" : "out of memory");
		free(buf);
		return -1;
	}
	/* exactly n bytes: an overread past the input is caught */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		fprintf(stderr, "replay: %s: out of memory\n", path);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	if (r->verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	r->inputs++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(replay *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = -1;
				break;
			}
			names = nn;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		if (!(names[n] = malloc(len))) {
			rc = -1;
			break;
		}
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (rc)
		fprintf(stderr, "replay: %s: out of memory\n", dir);
	else if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (!rc && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(r, names[i]))
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	replay r = {0, 0, 0};
	r.verbose = getenv("SALVO_REPLAY_VERBOSE") != NULL;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		r.verbose = 1;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			r.errors++;
		} else if (S_ISDIR(st.st_mode) ? run_dir(&r, argv[i])
					       : run_file(&r, argv[i]))
			r.errors++;
	}
	if (!r.inputs) {
		fprintf(stderr,
			"replay: no input found: nothing was checked\n");
		return 1;
	}
	printf("replay: %lu inputs ran\n", r.inputs);
	return r.errors ? 1 : 0;
}
