/*
 * yaml_map.c - YAML to flat (dotted key, value, line) entries (see yaml_map.h).
 *
 * libyaml's event parser drives a small state machine with an explicit,
 * fixed-size stack of frames: one per open mapping (its dotted prefix and the
 * key waiting for a value) or sequence (its items). Every key node, whether it
 * holds a scalar, a mapping or a sequence, is recorded in a hash set with its
 * line so that a duplicate is reported at its second occurrence, whichever
 * spelling ("log.dirs:" or "log: {dirs:}") either occurrence used.
 */
#include "common/yaml_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/error.h"
#include "common/limits.h"

enum frame_kind { FRAME_MAPPING, FRAME_SEQUENCE };

typedef struct frame {
    enum frame_kind kind;
    char *path;         /* mapping: prefix of its keys ("" at the top); sequence: its key */
    char *key;          /* mapping: full key waiting for its value, NULL when expecting a key */
    int key_line;
    char **items;       /* sequence of scalars: the items so far */
    int item_count;
    int item_capacity;
    size_t items_bytes; /* length of the items joined with ',' */
    int mapping_items;  /* indexed sequence: mappings seen so far */
    int line;           /* line of the key that opened this frame */
} frame;

/* Hash set of every key node seen: full key -> line of its first occurrence. */
typedef struct key_set {
    char **keys;
    int *lines;
    size_t slot_count; /* power of two */
    size_t used;
} key_set;

typedef struct parse_state {
    const char *name;
    int flags;
    yaml_map *map;
    frame stack[LIMIT_YAML_DEPTH + 1];
    int depth;
    int documents;
    key_set seen;
    char *err;
    size_t errlen;
} parse_state;

__attribute__((format(printf, 3, 4)))
static int fail(parse_state *s, int line, const char *fmt, ...)
{
    int n = snprintf(s->err, s->errlen, "%s:%d: ", s->name, line);
    if (n >= 0 && (size_t)n < s->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return ST_ECONFIG;
}

static char *join_key(const char *prefix, const char *key)
{
    size_t a = strlen(prefix), b = strlen(key);
    char *out = malloc(a + b + 2);
    if (!out)
        return NULL;
    if (a > 0) {
        memcpy(out, prefix, a);
        out[a++] = '.';
    }
    memcpy(out + a, key, b + 1);
    return out;
}

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static void key_set_free(key_set *set)
{
    for (size_t i = 0; i < set->slot_count; i++)
        free(set->keys[i]);
    free(set->keys);
    free(set->lines);
    memset(set, 0, sizeof *set);
}

static size_t key_set_slot(const key_set *set, const char *key)
{
    size_t mask = set->slot_count - 1, i = hash_string(key) & mask;
    while (set->keys[i] && strcmp(set->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

static int key_set_grow(key_set *set)
{
    key_set bigger = {0};
    bigger.slot_count = set->slot_count ? set->slot_count * 2 : 64;
    bigger.keys = calloc(bigger.slot_count, sizeof *bigger.keys);
    bigger.lines = calloc(bigger.slot_count, sizeof *bigger.lines);
    if (!bigger.keys || !bigger.lines) {
        key_set_free(&bigger);
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < set->slot_count; i++) {
        if (!set->keys[i])
            continue;
        size_t slot = key_set_slot(&bigger, set->keys[i]);
        bigger.keys[slot] = set->keys[i];
        bigger.lines[slot] = set->lines[i];
        bigger.used++;
    }
    free(set->keys);
    free(set->lines);
    *set = bigger;
    return 0;
}

/* Records key at line; returns 0, ST_ENOMEM, or ST_EEXISTS with *first_line. */
static int key_set_add(key_set *set, const char *key, int line, int *first_line)
{
    if ((set->used + 1) * 2 > set->slot_count && key_set_grow(set) != 0)
        return ST_ENOMEM;
    size_t slot = key_set_slot(set, key);
    if (set->keys[slot]) {
        *first_line = set->lines[slot];
        return ST_EEXISTS;
    }
    set->keys[slot] = strdup(key);
    if (!set->keys[slot])
        return ST_ENOMEM;
    set->lines[slot] = line;
    set->used++;
    return 0;
}

/* Registers a key node (any kind of value) and checks its length. */
static int note_key(parse_state *s, const char *key, int line)
{
    if (strlen(key) > LIMIT_CONFIG_VALUE_LENGTH)
        return fail(s, line, "key longer than %d bytes", LIMIT_CONFIG_VALUE_LENGTH);
    int first = 0;
    int rc = key_set_add(&s->seen, key, line, &first);
    if (rc == ST_EEXISTS)
        return fail(s, line, "duplicate key '%s' (first at line %d)", key, first);
    if (rc != 0)
        return fail(s, line, "out of memory");
    return 0;
}

static int add_entry(parse_state *s, char *key, char *value, frame *seq, int line)
{
    yaml_map *map = s->map;
    if (map->count == map->capacity) {
        int capacity = map->capacity ? map->capacity * 2 : 16;
        yaml_map_entry *grown = realloc(map->entries, (size_t)capacity * sizeof *grown);
        if (!grown) {
            free(key);
            free(value);
            return fail(s, line, "out of memory");
        }
        map->entries = grown;
        map->capacity = capacity;
    }
    yaml_map_entry *e = &map->entries[map->count++];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->value = value;
    e->line = line;
    if (seq) { /* the entry takes the items over */
        e->is_sequence = true;
        e->items = seq->items;
        e->item_count = seq->item_count;
        seq->items = NULL;
        seq->item_count = seq->item_capacity = 0;
    }
    return 0;
}

static frame *top(parse_state *s) { return s->depth > 0 ? &s->stack[s->depth - 1] : NULL; }

static int push(parse_state *s, enum frame_kind kind, char *path, int line)
{
    if (!path)
        return fail(s, line, "out of memory");
    if (s->depth >= LIMIT_YAML_DEPTH) {
        free(path);
        return fail(s, line, "nesting deeper than %d levels", LIMIT_YAML_DEPTH);
    }
    frame *f = &s->stack[s->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->path = path;
    f->line = line;
    return 0;
}

static void frame_free(frame *f)
{
    for (int i = 0; i < f->item_count; i++)
        free(f->items[i]);
    free(f->items);
    free(f->path);
    free(f->key);
    memset(f, 0, sizeof *f);
}

/* The parent of a finished mapping or sequence: its key has its value now. */
static void pop(parse_state *s)
{
    frame_free(&s->stack[--s->depth]);
    frame *parent = top(s);
    if (parent && parent->kind == FRAME_MAPPING) {
        free(parent->key);
        parent->key = NULL;
    }
}

static int sequence_add_item(parse_state *s, frame *f, const char *value, size_t len, int line)
{
    if (f->mapping_items > 0)
        return fail(s, line, "'%s': a sequence must hold only scalars or only mappings", f->path);
    size_t joined = f->items_bytes + (f->item_count > 0) + len;
    if (joined > LIMIT_CONFIG_VALUE_LENGTH)
        return fail(s, line, "'%s': value longer than %d bytes", f->path,
                    LIMIT_CONFIG_VALUE_LENGTH);
    if (f->item_count == f->item_capacity) {
        int capacity = f->item_capacity ? f->item_capacity * 2 : 8;
        char **grown = realloc(f->items, (size_t)capacity * sizeof *grown);
        if (!grown)
            return fail(s, line, "out of memory");
        f->items = grown;
        f->item_capacity = capacity;
    }
    f->items[f->item_count] = strndup(value, len);
    if (!f->items[f->item_count])
        return fail(s, line, "out of memory");
    f->item_count++;
    f->items_bytes = joined;
    return 0;
}

static int on_scalar(parse_state *s, const yaml_event_t *ev, int line)
{
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    frame *f = top(s);
    if (!f) { /* a document that is only a scalar; empty means an empty file */
        if (len == 0 && ev->data.scalar.plain_implicit)
            return 0;
        return fail(s, line, "expected a mapping of keys at the top level");
    }
    if (memchr(value, '\0', len))
        return fail(s, line, "NUL character in a key or value");
    if (f->kind == FRAME_SEQUENCE)
        return sequence_add_item(s, f, value, len, line);
    if (!f->key) {
        if (len == 0)
            return fail(s, line, "empty key");
        f->key = join_key(f->path, value);
        f->key_line = line;
        if (!f->key)
            return fail(s, line, "out of memory");
        return note_key(s, f->key, line);
    }
    if (len > LIMIT_CONFIG_VALUE_LENGTH)
        return fail(s, line, "'%s': value longer than %d bytes", f->key,
                    LIMIT_CONFIG_VALUE_LENGTH);
    char *copy = strndup(value, len);
    if (!copy)
        return fail(s, line, "out of memory");
    char *key = f->key;
    f->key = NULL;
    return add_entry(s, key, copy, NULL, f->key_line);
}

static int on_mapping_start(parse_state *s, int line)
{
    frame *f = top(s);
    if (!f)
        return push(s, FRAME_MAPPING, strdup(""), line);
    if (f->kind == FRAME_SEQUENCE) {
        if (!(s->flags & YAML_MAP_INDEXED_SEQUENCES))
            return fail(s, line, "'%s': only sequences of scalars are supported", f->path);
        if (f->item_count > 0)
            return fail(s, line, "'%s': a sequence must hold only scalars or only mappings",
                        f->path);
        char index[16];
        snprintf(index, sizeof index, "%d", f->mapping_items++);
        return push(s, FRAME_MAPPING, join_key(f->path, index), line);
    }
    if (!f->key)
        return fail(s, line, "keys must be scalars");
    return push(s, FRAME_MAPPING, strdup(f->key), f->key_line);
}

static int on_sequence_start(parse_state *s, int line)
{
    frame *f = top(s);
    if (!f)
        return fail(s, line, "expected a mapping of keys at the top level");
    if (f->kind == FRAME_SEQUENCE)
        return fail(s, line, "'%s': nested sequences are not supported", f->path);
    if (!f->key)
        return fail(s, line, "keys must be scalars");
    return push(s, FRAME_SEQUENCE, strdup(f->key), f->key_line);
}

static int on_sequence_end(parse_state *s)
{
    frame *f = top(s);
    int rc = 0;
    if (f->mapping_items == 0) { /* a sequence of scalars becomes one entry */
        char *key = strdup(f->path);
        char *joined = malloc(f->items_bytes + 1);
        if (!key || !joined) {
            free(key);
            free(joined);
            return fail(s, f->line, "out of memory");
        }
        size_t at = 0;
        for (int i = 0; i < f->item_count; i++) {
            if (i > 0)
                joined[at++] = ',';
            size_t n = strlen(f->items[i]);
            memcpy(joined + at, f->items[i], n);
            at += n;
        }
        joined[at] = '\0';
        rc = add_entry(s, key, joined, f, f->line);
    }
    pop(s);
    return rc;
}

static int on_event(parse_state *s, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    const yaml_char_t *anchor = NULL;
    if (ev->type == YAML_SCALAR_EVENT)
        anchor = ev->data.scalar.anchor;
    else if (ev->type == YAML_SEQUENCE_START_EVENT)
        anchor = ev->data.sequence_start.anchor;
    else if (ev->type == YAML_MAPPING_START_EVENT)
        anchor = ev->data.mapping_start.anchor;
    if (anchor)
        return fail(s, line, "anchors (&%s) are not supported", (const char *)anchor);

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (s->documents++ > 0)
            return fail(s, line, "only one YAML document is allowed");
        return 0;
    case YAML_ALIAS_EVENT:
        return fail(s, line, "aliases (*%s) are not supported",
                    (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return on_scalar(s, ev, line);
    case YAML_MAPPING_START_EVENT:
        return on_mapping_start(s, line);
    case YAML_MAPPING_END_EVENT:
        pop(s);
        return 0;
    case YAML_SEQUENCE_START_EVENT:
        return on_sequence_start(s, line);
    case YAML_SEQUENCE_END_EVENT:
        return on_sequence_end(s);
    default: /* stream start/end, document end */
        return 0;
    }
}

static int syntax_error(parse_state *s, const yaml_parser_t *parser)
{
    int line = (int)parser->problem_mark.line + 1;
    const char *problem = parser->problem ? parser->problem : "unknown error";
    if (parser->context)
        return fail(s, line, "invalid YAML: %s (%s started at line %d)", problem, parser->context,
                    (int)parser->context_mark.line + 1);
    return fail(s, line, "invalid YAML: %s", problem);
}

static void map_clear(yaml_map *map)
{
    memset(map, 0, sizeof *map);
}

int yaml_map_parse(const char *name, const char *text, size_t len, int flags, yaml_map *out,
                   char *err, size_t errlen)
{
    map_clear(out);
    if (errlen > 0)
        err[0] = '\0';
    if (len > LIMIT_CONFIG_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", name, LIMIT_CONFIG_FILE_BYTES);
        return ST_ETOOBIG;
    }
    parse_state s = {.name = name, .flags = flags, .map = out, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", name);
        return ST_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(&s, &parser);
            break;
        }
        rc = on_event(&s, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    while (s.depth > 0)
        frame_free(&s.stack[--s.depth]);
    key_set_free(&s.seen);
    if (rc != 0)
        yaml_map_free(out);
    return rc;
}

/* Reads at most LIMIT_CONFIG_FILE_BYTES + 1 bytes, so an endless or growing
 * file (a pipe, /dev/zero) is refused by size rather than read forever. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return ST_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
        return ST_EIO;
    }
    size_t cap = LIMIT_CONFIG_FILE_BYTES + 1, used = 0;
    char *data = malloc(cap);
    if (!data) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return ST_ENOMEM;
    }
    int rc = 0;
    while (used < cap) {
        ssize_t n = read(fd, data + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            rc = ST_EIO;
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (rc == 0 && used > LIMIT_CONFIG_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, LIMIT_CONFIG_FILE_BYTES);
        rc = ST_ETOOBIG;
    }
    if (rc != 0) {
        free(data);
        return rc;
    }
    *text = data;
    *len = used;
    return 0;
}

int yaml_map_load(const char *path, int flags, yaml_map *out, char *err, size_t errlen)
{
    map_clear(out);
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    rc = yaml_map_parse(path, text, len, flags, out, err, errlen);
    free(text);
    return rc;
}

void yaml_map_free(yaml_map *map)
{
    for (int i = 0; i < map->count; i++) {
        yaml_map_entry *e = &map->entries[i];
        for (int j = 0; j < e->item_count; j++)
            free(e->items[j]);
        free(e->items);
        free(e->key);
        free(e->value);
    }
    free(map->entries);
    map_clear(map);
}

const yaml_map_entry *yaml_map_find(const yaml_map *map, const char *key)
{
    for (int i = 0; i < map->count; i++)
        if (strcmp(map->entries[i].key, key) == 0)
            return &map->entries[i];
    return NULL;
}
