/*
 * YAML → config, through libyaml's document API: libyaml builds the node
 * tree (and reports syntax errors with their marks), this file only walks
 * it: a mapping of sections, each a mapping of keys to scalars, except
 * "hotfolders", a sequence of profile mappings, and "memory", which may
 * also be a bare scalar ("memory: auto" means memory.budget).
 *
 * The walk never stops at a bad key: each problem becomes one diag line
 * "FILE:LINE:COLUMN: key: message", the good keys are applied, and the
 * caller learns from the return value that the layer had errors.  The walk
 * has a fixed depth, so aliases cannot make it recurse, and duplicate keys
 * are found with a per-mapping table indexed by key, so a large input costs
 * linear time.
 *
 * Before libyaml builds the tree, one pass over its event stream refuses
 * documents nested deeper than MAX_DEPTH collections.  The depth has to be
 * checked there, not in the walk: libyaml's scanner keeps one possible
 * simple key per open flow level and looks at all of them for every token,
 * so "[[[[..." 200,000 deep costs minutes before the tree exists, while
 * the event pass stops at the first level too deep.  The same pass caps
 * the anchors at MAX_ANCHORS: libyaml's loader keeps them in a list it
 * searches for every new anchor and every alias (100,000 anchors took 36
 * s).  Past these two limits every cost in libyaml and here is linear in
 * the input.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/core/error.h"
#include "conf/keys.h"
#include "conf/units.h"

#define MAX_PROFILES 256
#define MAX_DEPTH 64 /* collections, the root one included */
#define MAX_ANCHORS 128

struct loader {
	struct salvo_config *cfg;
	const char *file; /* interned */
	struct salvo_conf_diag *diag;
	yaml_document_t *doc;
	int nomem;
};

static struct salvo_conf_origin at(const struct loader *l,
				   const yaml_node_t *node)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FILE, l->file,
				      (unsigned)node->start_mark.line + 1,
				      (unsigned)node->start_mark.column + 1};
	return o;
}

static const char *kind_name(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a single value";
	}
}

static const char *scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar: YAML's null, never a value. */
static int is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);
	return node->type == YAML_SCALAR_NODE &&
	       node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
		!strcmp(s, "Null") || !strcmp(s, "NULL"));
}

static void list_names(char *buf, size_t n, const char *const *names,
		       const struct salvo_conf_keydesc *table, size_t count,
		       const char *section)
{
	size_t len = 0, plen = section ? strlen(section) + 1 : 0;
	buf[0] = '\0';
	for (size_t i = 0; i < count && len < n; i++) {
		const char *name = names ? names[i] : table[i].key;
		if (section &&
		    (strncmp(name, section, plen - 1) || name[plen - 1] != '.'))
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					len ? ", " : "", name + plen);
	}
}

/*
 * Applies one scalar to key d of base.  keyname is the name in messages.
 * Returns 1 when the value was stored.
 */
static int apply(struct loader *l, const struct salvo_conf_keydesc *d,
		 void *base, const char *keyname, const yaml_node_t *val)
{
	struct salvo_conf_origin o = at(l, val);
	char err[512], allowed[160];
	int rc;

	if (val->type != YAML_SCALAR_NODE) {
		salvo_conf_diag_add(
		    l->diag, &o,
		    "%s: expected a single value, got %s; "
		    "allowed: %s",
		    keyname, kind_name(val),
		    salvo_conf_key_allowed(d, allowed, sizeof(allowed)));
		return 0;
	}
	if (is_null(val)) {
		salvo_conf_diag_add(
		    l->diag, &o, "%s: no value; allowed: %s", keyname,
		    salvo_conf_key_allowed(d, allowed, sizeof(allowed)));
		return 0;
	}
	if (strlen(scalar(val)) != val->data.scalar.length) {
		salvo_conf_diag_add(l->diag, &o,
				    "%s: value contains a NUL byte", keyname);
		return 0;
	}
	rc = salvo_conf_key_parse(d, base, scalar(val), err, sizeof(err));
	if (rc == SALVO_ERR_NOMEM)
		l->nomem = 1;
	else if (rc)
		salvo_conf_diag_add(l->diag, &o, "%s: %s", keyname, err);
	return rc == 0;
}

/* Reports a key seen twice in one mapping; returns 1 if it was. */
static int duplicate(struct loader *l, unsigned *first_line,
		     const yaml_node_t *key, const char *keyname)
{
	struct salvo_conf_origin o = at(l, key);
	if (*first_line) {
		salvo_conf_diag_add(l->diag, &o,
				    "%s: duplicate key (first set at line %u)",
				    keyname, *first_line);
		return 1;
	}
	*first_line = o.line;
	return 0;
}

static int key_is_name(struct loader *l, const yaml_node_t *key)
{
	struct salvo_conf_origin o = at(l, key);
	if (key->type == YAML_SCALAR_NODE &&
	    strlen(scalar(key)) == key->data.scalar.length)
		return 1;
	salvo_conf_diag_add(l->diag, &o, "keys must be plain names, got %s",
			    kind_name(key));
	return 0;
}

/* apply(), or for a list of globs given as a sequence, apply() of each
 * item; 1 when the key was set (an empty sequence sets it to none). */
static int apply_value(struct loader *l, const struct salvo_conf_keydesc *d,
		       void *base, const char *keyname, const yaml_node_t *v)
{
	char allowed[160];
	int set = 1;

	if (d->type != SALVO_CONF_T_GLOBS || v->type != YAML_SEQUENCE_NODE)
		return apply(l, d, base, keyname, v);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *g = yaml_document_get_node(l->doc, *it);
		if (g->type != YAML_SCALAR_NODE) {
			struct salvo_conf_origin o = at(l, g);
			salvo_conf_diag_add(
			    l->diag, &o,
			    "%s: expected a glob, got %s; allowed: %s", keyname,
			    kind_name(g),
			    salvo_conf_key_allowed(d, allowed,
						   sizeof(allowed)));
			set = 0;
			continue;
		}
		set &= apply(l, d, base, keyname, g);
	}
	return set;
}

static void load_section(struct loader *l, const char *section,
			 const yaml_node_t *map)
{
	unsigned seen[SALVO_CONF_NKEYS] = {0};
	size_t slen = strlen(section);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		char full[160], names[512];
		int idx;

		if (!key_is_name(l, k))
			continue;
		snprintf(full, sizeof(full), "%s.%.100s", section, scalar(k));
		idx = salvo_conf_key_index(full);
		if (idx < 0 || idx == SALVO_CONF_HOTFOLDERS ||
		    strlen(scalar(k)) + slen + 1 != strlen(full)) {
			struct salvo_conf_origin o = at(l, k);
			list_names(names, sizeof(names), NULL, salvo_conf_keys,
				   SALVO_CONF_NKEYS, section);
			salvo_conf_diag_add(
			    l->diag, &o, "unknown key '%s'; allowed in %s: %s",
			    full, section, names);
			continue;
		}
		if (duplicate(l, &seen[idx], k, full))
			continue;
		if (apply_value(l, &salvo_conf_keys[idx], l->cfg, full, v))
			l->cfg->origin[idx] = at(l, v);
	}
}

static int is_keyword(const char *s, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcmp(s, words[i]))
			return (int)i;
	return -1;
}

/* One profile's keys into *hf (already holding the profile defaults). */
static void load_profile(struct loader *l, size_t index,
			 struct salvo_hotfolder *hf, const yaml_node_t *map)
{
	unsigned seen[SALVO_CONF_PK_COUNT] = {0};
	struct salvo_conf_origin where[SALVO_CONF_PK_COUNT];
	char keyname[160], names[512], allowed[160];

	for (size_t i = 0; i < SALVO_CONF_PK_COUNT; i++)
		where[i] = at(l, map);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		const struct salvo_conf_keydesc *d = NULL;
		const char *renamed;
		size_t i;

		if (!key_is_name(l, k))
			continue;
		snprintf(keyname, sizeof(keyname), "hotfolders[%zu].%.100s",
			 index, scalar(k));
		for (i = 0; i < salvo_conf_n_profile_keys && !d; i++)
			if (!strcmp(scalar(k), salvo_conf_profile_keys[i].key))
				d = &salvo_conf_profile_keys[i];
		if (!d && (renamed = salvo_conf_renamed_to(
			       salvo_conf_renamed_profile_keys, scalar(k),
			       strlen(scalar(k))))) {
			struct salvo_conf_origin o = at(l, k);
			salvo_conf_diag_add(l->diag, &o,
					    "%s: renamed; allowed: %s (the "
					    "same value)",
					    keyname, renamed);
			continue;
		}
		if (!d) {
			struct salvo_conf_origin o = at(l, k);
			list_names(names, sizeof(names), NULL,
				   salvo_conf_profile_keys,
				   salvo_conf_n_profile_keys, NULL);
			salvo_conf_diag_add(l->diag, &o,
					    "unknown key '%s'; allowed in a "
					    "hot-folder profile: %s",
					    keyname, names);
			continue;
		}
		if (duplicate(l, &seen[d - salvo_conf_profile_keys], k,
			      keyname))
			continue;
		where[d - salvo_conf_profile_keys] = at(l, v);
		apply_value(l, d, hf, keyname, v);
	}
	/* a profile is whole on its own: check it here, at its lines */
	for (size_t i = 0; i < salvo_conf_n_profile_keys; i++) {
		const struct salvo_conf_keydesc *d =
		    &salvo_conf_profile_keys[i];
		if (d->def || seen[i])
			continue;
		struct salvo_conf_origin o = at(l, map);
		salvo_conf_diag_add(
		    l->diag, &o,
		    "hotfolders[%zu]: missing key '%s' (%s); "
		    "allowed: %s",
		    index, d->key, d->help,
		    salvo_conf_key_allowed(d, allowed, sizeof(allowed)));
	}
	{
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "hotfolders[%zu].", index);
		salvo_conf_profile_check(hf, prefix, where, l->diag);
	}
}

static void check_names(struct loader *l, const struct salvo_hotfolder *list,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i && list[i].name; j++)
			if (list[j].name &&
			    !strcmp(list[j].name, list[i].name)) {
				salvo_conf_diag_add(
				    l->diag, &list[i].origin,
				    "hotfolders[%zu].name: '%s' is "
				    "already used by hotfolders[%zu]; "
				    "allowed: a unique name",
				    i, list[i].name, j);
				break;
			}
}

static void load_hotfolders(struct loader *l, const yaml_node_t *seq)
{
	size_t n = (size_t)(seq->data.sequence.items.top -
			    seq->data.sequence.items.start);
	struct salvo_conf_origin o = at(l, seq);
	struct salvo_hotfolder *list;
	unsigned before = l->diag->count;

	if (n > MAX_PROFILES) {
		salvo_conf_diag_add(l->diag, &o,
				    "hotfolders: %zu profiles; allowed: at "
				    "most %d",
				    n, MAX_PROFILES);
		return;
	}
	if (!(list = calloc(n ? n : 1, sizeof(*list)))) {
		l->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(
		    l->doc, seq->data.sequence.items.start[i]);
		struct salvo_conf_origin io = at(l, item);
		list[i].origin = io;
		list[i].cfg = l->cfg;
		if (salvo_conf_profile_defaults(&list[i]))
			l->nomem = 1;
		if (item->type != YAML_MAPPING_NODE)
			salvo_conf_diag_add(l->diag, &io,
					    "hotfolders[%zu]: expected a "
					    "mapping of profile keys, got %s",
					    i, kind_name(item));
		else
			load_profile(l, i, &list[i], item);
	}
	check_names(l, list, n);
	if (l->diag->count != before || l->nomem) {
		salvo_conf_hotfolders_free(list, n);
		return;
	}
	salvo_conf_hotfolders_free(l->cfg->hotfolders, l->cfg->n_hotfolders);
	l->cfg->hotfolders = list;
	l->cfg->n_hotfolders = n;
	l->cfg->origin[SALVO_CONF_HOTFOLDERS] = o;
}

static size_t n_sections(void)
{
	size_t n = 0;
	while (salvo_conf_sections[n])
		n++;
	return n;
}

static void load_root(struct loader *l, const yaml_node_t *root)
{
	unsigned seen[16] = {0};
	char names[256];

	if (is_null(root))
		return; /* a file of comments only */
	if (root->type != YAML_MAPPING_NODE) {
		struct salvo_conf_origin o = at(l, root);
		list_names(names, sizeof(names), salvo_conf_sections, NULL,
			   n_sections(), NULL);
		salvo_conf_diag_add(l->diag, &o,
				    "expected a mapping of sections, got %s; "
				    "allowed: %s",
				    kind_name(root), names);
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		struct salvo_conf_origin ko = at(l, k), vo = at(l, v);
		int s;

		if (!key_is_name(l, k))
			continue;
		s = is_keyword(scalar(k), salvo_conf_sections);
		if (s < 0) {
			list_names(names, sizeof(names), salvo_conf_sections,
				   NULL, n_sections(), NULL);
			salvo_conf_diag_add(l->diag, &ko,
					    "unknown section '%.100s'; "
					    "allowed: %s",
					    scalar(k), names);
			continue;
		}
		if (duplicate(l, &seen[s], k, salvo_conf_sections[s]))
			continue;
		if (is_null(v))
			continue; /* a section with every key commented out */
		if (!strcmp(scalar(k), "hotfolders")) {
			if (v->type == YAML_SEQUENCE_NODE)
				load_hotfolders(l, v);
			else
				salvo_conf_diag_add(l->diag, &vo,
						    "hotfolders: expected a "
						    "list of profiles, got %s",
						    kind_name(v));
		} else if (!strcmp(scalar(k), "memory") &&
			   v->type == YAML_SCALAR_NODE) {
			if (apply(l, &salvo_conf_keys[SALVO_CONF_MEMORY_BUDGET],
				  l->cfg, "memory", v))
				l->cfg->origin[SALVO_CONF_MEMORY_BUDGET] = vo;
		} else if (v->type != YAML_MAPPING_NODE) {
			list_names(names, sizeof(names), NULL, salvo_conf_keys,
				   SALVO_CONF_NKEYS, scalar(k));
			salvo_conf_diag_add(l->diag, &vo,
					    "%s: expected a mapping of keys, "
					    "got %s; allowed keys: %s",
					    scalar(k), kind_name(v), names);
		} else {
			load_section(l, scalar(k), v);
		}
	}
}

static void syntax_error(struct loader *l, const yaml_parser_t *parser)
{
	struct salvo_conf_origin o = {SALVO_CONF_FROM_FILE, l->file,
				      (unsigned)parser->problem_mark.line + 1,
				      (unsigned)parser->problem_mark.column +
					  1};
	if (parser->error == YAML_MEMORY_ERROR) {
		l->nomem = 1;
		return;
	}
	salvo_conf_diag_add(l->diag, &o, "YAML syntax error: %s%s%s",
			    parser->problem ? parser->problem : "unknown",
			    parser->context ? " " : "",
			    parser->context ? parser->context : "");
}

static const unsigned char *anchor_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/*
 * One pass over the events, stopping at the first collection deeper than
 * MAX_DEPTH or the first anchor past MAX_ANCHORS (reported; returns 1).  A
 * syntax error ends the pass quietly (returns 0): the document load that
 * follows reports it.
 */
static int too_complex(struct loader *l, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned depth = 0, anchors = 0;
	int done = 0, refused = 0;

	if (!yaml_parser_initialize(&parser)) {
		l->nomem = 1;
		return 1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !refused && yaml_parser_parse(&parser, &ev)) {
		struct salvo_conf_origin o = {SALVO_CONF_FROM_FILE, l->file,
					      (unsigned)ev.start_mark.line + 1,
					      (unsigned)ev.start_mark.column +
						  1};
		if (anchor_of(&ev) && ++anchors > MAX_ANCHORS) {
			salvo_conf_diag_add(l->diag, &o,
					    "more than %d anchors; allowed: at "
					    "most %d",
					    MAX_ANCHORS, MAX_ANCHORS);
			refused = 1;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH && !refused) {
				salvo_conf_diag_add(
				    l->diag, &o,
				    "nesting deeper than %d levels", MAX_DEPTH);
				refused = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (parser.error == YAML_MEMORY_ERROR)
		l->nomem = 1;
	yaml_parser_delete(&parser);
	return refused;
}

int salvo_conf_load_buffer(struct salvo_config *cfg, const char *name,
			   const char *buf, size_t len,
			   struct salvo_conf_diag *diag)
{
	struct loader l = {cfg, NULL, diag, NULL, 0};
	unsigned before = diag->count;
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;

	if (!(l.file = salvo_conf_intern(cfg, name)))
		return SALVO_ERR_NOMEM;
	if (too_complex(&l, buf, len))
		return l.nomem ? SALVO_ERR_NOMEM : SALVO_ERR_INVAL;
	if (!yaml_parser_initialize(&parser))
		return SALVO_ERR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(&l, &parser);
		goto fail_parser;
	}
	l.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)))
		load_root(&l, root);
	if (!yaml_parser_load(&parser, &extra)) {
		syntax_error(&l, &parser);
	} else {
		if ((root = yaml_document_get_root_node(&extra))) {
			struct salvo_conf_origin o = at(&l, root);
			salvo_conf_diag_add(diag, &o,
					    "a second YAML document; allowed: "
					    "one document per file");
		}
		yaml_document_delete(&extra);
	}
	yaml_document_delete(&doc);
fail_parser:
	yaml_parser_delete(&parser);
	if (l.nomem)
		return SALVO_ERR_NOMEM;
	return diag->count != before ? SALVO_ERR_INVAL : 0;
}
