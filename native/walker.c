/*
 * The walker: lists SRC's directories, and the same paths under DST, ahead of the mirror, on two
 * threads of its own, in the order the mirror visits them (depth first, each directory's
 * subdirectories sorted by name bytes).
 *
 * Why: the walk used to send its next directories to libuv's pool a few at a time. Every job is a
 * hand-off between threads, and on these VMs a hand-off (a futex wake of an idle vCPU, then a wake of
 * the event loop) cost ~130 µs of the main thread's CPU: 0.27 s of a 1.4 s no-op of 200,000 files,
 * while both cores idled 14 % of the time. Here the SRC thread walks on by itself, the DST thread
 * follows it, and the main thread takes whatever is ready in one call, sleeping only when nothing is.
 *
 * The threads never touch JS. SRC thread: pops a directory from its own depth-first stack, unless JS
 * said to skip it (walkSkip), lists and lstats it (scan.c), pushes its subdirectories, and queues it
 * for the DST thread. Gated (a mirror with excludes): a directory's subdirectories are pushed only
 * once JS has planned it and named the ones it visits (walkDone), so an excluded directory is never
 * opened, as with rsync (it may be a dead network mount, or an automount point); the SRC thread waits
 * meanwhile, so in that mode it runs ahead only through directories without subdirectories. DST thread: scans the same relative path under DST (an error such as ENOENT is
 * data: the mirror decides what it means) and queues the pair for JS. The SRC thread stops while
 * LOOKAHEAD directories (or entries) are listed and not yet taken: memory stays bounded, and DST is
 * never listed long before the mirror gets there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <node_api.h>
#include "args.h"
#include "scan.h"

struct witem {
  char *rel; /* relative path, "" for the root */
  size_t rel_len;
  struct scan_result *src, *dst; /* dst NULL: not listed (the source failed) */
  size_t entries;
  int awaiting; /* gated: the SRC thread waits for walkDone on this directory */
  struct witem *next;
};

struct walker {
  char *src_root, *dst_root;
  size_t max_dirs, max_entries;
  pthread_mutex_t mu;
  pthread_cond_t room; /* SRC thread: in-flight fell below the limits, or stop */
  pthread_cond_t work; /* DST thread: q1 has an item, or the SRC thread is done, or stop */
  struct witem *q1_head, *q1_tail; /* listed at SRC, waiting for DST */
  struct witem *q2_head, *q2_tail; /* both listed, waiting for JS */
  size_t q2_len, inflight_dirs, inflight_entries;
  int src_done, dst_done, stop;
  /* Subtrees JS does not want (relative paths); pruned once the walk is past them. */
  char **skips;
  size_t n_skips, cap_skips;
  /* The stack of the SRC thread: relative paths still to list. */
  char **stack;
  size_t n_stack, cap_stack;
  /* Waking JS: only while it waits (js_waiting), when q2 holds wake_at items or the walk is done. */
  napi_threadsafe_function tsfn;
  napi_deferred deferred; /* main thread only */
  int js_waiting;
  size_t wake_at;
  /* Gated: the directory whose subdirectories wait for JS's walkDone, and JS's answer. */
  int gated;
  char *awaiting;
  char *decision; /* NUL-terminated names, one after another */
  size_t decision_len;
  int decided;
  /* Its subdirectories (relative paths), shown to JS by walkPending before the directory reaches it. */
  char **await_subs;
  size_t await_n;
  int shown;
  pthread_t t_src, t_dst;
  int threads, closed;
};

/* Depth-first order of relative paths: component by component, names by bytes ('/' sorts first). */
static int cmp_walk(const char *a, const char *b) {
  for (;; a++, b++) {
    unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
    if (ca == '/') ca = 0;
    if (cb == '/') cb = 0;
    if (*a == 0 || *b == 0) return (*a != 0) - (*b != 0);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
}

/* rel is `root` or inside it. */
static int under(const char *rel, const char *root) {
  size_t n = strlen(root);
  if (n == 0) return 1;
  return strncmp(rel, root, n) == 0 && (rel[n] == 0 || rel[n] == '/');
}

static char *join(const char *root, const char *rel, size_t rel_len) {
  size_t n = strlen(root);
  char *p = malloc(n + 1 + rel_len + 1);
  memcpy(p, root, n);
  if (rel_len > 0) {
    p[n++] = '/';
    memcpy(p + n, rel, rel_len);
    n += rel_len;
  }
  p[n] = 0;
  return p;
}

static struct scan_result *scan_path(const char *root, const char *rel, size_t rel_len) {
  struct scan_result *r = calloc(1, sizeof *r);
  r->path = join(root, rel, rel_len);
  scan(r);
  return r;
}

static void push_stack(struct walker *w, char *rel) {
  if (w->n_stack == w->cap_stack) {
    w->cap_stack = w->cap_stack ? 2 * w->cap_stack : 64;
    w->stack = realloc(w->stack, w->cap_stack * sizeof *w->stack);
  }
  w->stack[w->n_stack++] = rel;
}

/* Called with mu held: is rel to be skipped? Drops the skips the walk has gone past. */
static int skipped(struct walker *w, const char *rel) {
  int skip = 0;
  size_t k = 0;
  for (size_t i = 0; i < w->n_skips; i++) {
    char *s = w->skips[i];
    if (under(rel, s)) skip = 1;
    else if (cmp_walk(rel, s) > 0) {
      free(s); /* the walk is past this subtree for good */
      continue;
    }
    w->skips[k++] = s;
  }
  w->n_skips = k;
  return skip;
}

/* Called with mu held: the SRC thread waits for JS to take something. */
static int at_limit(const struct walker *w) {
  return w->inflight_dirs >= w->max_dirs || w->inflight_entries >= w->max_entries;
}

/*
 * Called with mu held: JS, waiting for `want` directories, should have what is ready now: there are
 * that many, or the walk is over, or nothing more will come before JS takes some (the DST thread has
 * caught up and the SRC thread is done or waits for room).
 */
static int ready_for_js(const struct walker *w, size_t want) {
  return w->q2_len >= want || w->dst_done || (w->awaiting != NULL && !w->shown) ||
         (w->q2_len > 0 && w->q1_head == NULL && (w->src_done || at_limit(w)));
}

/* Called with mu held, gated: pushes the subdirectories JS named (both lists in strcmp order). */
static void push_decided(struct walker *w, char **subs, size_t n_subs, size_t rel_len) {
  /* Merge: mark the subdirectories whose names JS gave. */
  char *keep = calloc(n_subs ? n_subs : 1, 1);
  const char *d = w->decision, *end = w->decision + w->decision_len;
  size_t i = 0;
  while (d < end && i < n_subs) {
    const char *name = subs[i] + (rel_len > 0 ? rel_len + 1 : 0);
    int c = strcmp(name, d);
    if (c == 0) keep[i] = 1;
    if (c <= 0) i++;
    if (c >= 0) d += strlen(d) + 1;
  }
  for (size_t k = n_subs; k > 0; k--) {
    if (keep[k - 1]) push_stack(w, subs[k - 1]);
    else free(subs[k - 1]);
  }
  free(keep);
}

/* Called with mu held. */
static void wake_js(struct walker *w) {
  if (w->js_waiting && ready_for_js(w, w->wake_at)) {
    w->js_waiting = 0;
    napi_call_threadsafe_function(w->tsfn, NULL, napi_tsfn_nonblocking);
  }
}

static void *src_thread(void *arg) {
  struct walker *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && w->n_stack > 0 && w->inflight_dirs > 0 && at_limit(w)) {
      wake_js(w); /* JS may wait for more than will come before it takes some */
      pthread_cond_wait(&w->room, &w->mu);
    }
    if (w->stop || w->n_stack == 0) break;
    char *rel = w->stack[--w->n_stack];
    if (skipped(w, rel)) {
      free(rel);
      continue;
    }
    pthread_mutex_unlock(&w->mu);
    struct witem *it = calloc(1, sizeof *it);
    it->rel = rel;
    it->rel_len = strlen(rel);
    it->src = scan_path(w->src_root, rel, it->rel_len);
    it->entries = it->src->n;
    /* Subdirectories, pushed last first so the first pops next. */
    char **subs = NULL;
    size_t n_subs = 0, cap_subs = 0;
    for (size_t i = 0; i < it->src->n; i++) {
      const struct scan_entry *e = &it->src->entries[i];
      if (e->f[7] == 0 && S_ISDIR((mode_t)e->f[0])) {
        if (n_subs == cap_subs) {
          cap_subs = cap_subs ? 2 * cap_subs : 16;
          subs = realloc(subs, cap_subs * sizeof *subs);
        }
        size_t len = strlen(e->name);
        char *p = malloc(it->rel_len + 1 + len + 1);
        size_t o = 0;
        if (it->rel_len > 0) {
          memcpy(p, rel, it->rel_len);
          p[it->rel_len] = '/';
          o = it->rel_len + 1;
        }
        memcpy(p + o, e->name, len + 1);
        subs[n_subs++] = p;
      }
    }
    pthread_mutex_lock(&w->mu);
    int wait_for_js = w->gated && n_subs > 0;
    if (!wait_for_js) {
      for (size_t i = n_subs; i > 0; i--) push_stack(w, subs[i - 1]);
    } else {
      it->awaiting = 1;
      w->awaiting = strdup(rel);
      w->decided = 0;
      w->shown = 0;
      w->await_subs = subs;
      w->await_n = n_subs;
    }
    if (w->q1_tail) w->q1_tail->next = it;
    else w->q1_head = it;
    w->q1_tail = it;
    w->inflight_dirs++;
    w->inflight_entries += it->entries;
    pthread_cond_signal(&w->work);
    if (wait_for_js) {
      /* Until JS names the subdirectories it visits, or drops the directory (walkSkip). */
      while (!w->stop && !w->decided && !skipped(w, w->awaiting)) {
        wake_js(w);
        pthread_cond_wait(&w->room, &w->mu);
      }
      if (w->decided) push_decided(w, subs, n_subs, strlen(w->awaiting));
      else
        for (size_t i = 0; i < n_subs; i++) free(subs[i]);
      free(w->awaiting);
      free(w->decision);
      w->awaiting = w->decision = NULL;
      w->decision_len = 0;
      w->decided = 0;
      w->await_subs = NULL;
      w->await_n = 0;
    }
    free(subs);
  }
  w->src_done = 1;
  pthread_cond_signal(&w->work);
  wake_js(w);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void *dst_thread(void *arg) {
  struct walker *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && !w->q1_head && !w->src_done) pthread_cond_wait(&w->work, &w->mu);
    if (w->stop || !w->q1_head) break;
    struct witem *it = w->q1_head;
    w->q1_head = it->next;
    if (!w->q1_head) w->q1_tail = NULL;
    it->next = NULL;
    pthread_mutex_unlock(&w->mu);
    if (w->dst_root && it->src->err == 0) {
      it->dst = scan_path(w->dst_root, it->rel, it->rel_len);
    }
    pthread_mutex_lock(&w->mu);
    if (w->q2_tail) w->q2_tail->next = it;
    else w->q2_head = it;
    w->q2_tail = it;
    w->q2_len++;
    wake_js(w);
  }
  w->dst_done = 1;
  wake_js(w);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void item_free(struct witem *it) {
  if (it->src) scan_free(it->src);
  if (it->dst) scan_free(it->dst);
  free(it->rel);
  free(it);
}

/* Main thread: settles a pending wait. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  struct walker *w = context;
  if (env == NULL || w->deferred == NULL) return;
  napi_deferred d = w->deferred;
  w->deferred = NULL;
  napi_unref_threadsafe_function(env, w->tsfn);
  napi_value undef;
  napi_get_undefined(env, &undef);
  napi_resolve_deferred(env, d, undef);
}

/* Stops and joins the threads, frees everything but w itself. Main thread. */
static void walker_close(napi_env env, struct walker *w) {
  if (w->closed) return;
  w->closed = 1;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_broadcast(&w->room);
  pthread_cond_broadcast(&w->work);
  pthread_mutex_unlock(&w->mu);
  if (w->threads >= 1) pthread_join(w->t_src, NULL);
  if (w->threads >= 2) pthread_join(w->t_dst, NULL);
  for (struct witem *it = w->q1_head, *next; it; it = next) {
    next = it->next;
    item_free(it);
  }
  for (struct witem *it = w->q2_head, *next; it; it = next) {
    next = it->next;
    item_free(it);
  }
  w->q1_head = w->q1_tail = w->q2_head = w->q2_tail = NULL;
  for (size_t i = 0; i < w->n_stack; i++) free(w->stack[i]);
  for (size_t i = 0; i < w->n_skips; i++) free(w->skips[i]);
  free(w->awaiting);
  free(w->decision);
  w->awaiting = w->decision = NULL;
  free(w->stack);
  free(w->skips);
  free(w->src_root);
  free(w->dst_root);
  w->stack = NULL;
  w->skips = NULL;
  w->src_root = w->dst_root = NULL;
  if (w->deferred && env) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, w->deferred, undef);
    w->deferred = NULL;
  }
  napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->room);
  pthread_cond_destroy(&w->work);
}

static void walker_finalize(napi_env env, void *data, void *hint) {
  struct walker *w = data;
  walker_close(env, w);
  free(w);
}

static struct walker *walker_of(napi_env env, napi_value v) {
  struct walker *w = external_arg(env, v, "walker");
  if (!w) return NULL;
  if (w->closed) {
    napi_throw_error(env, NULL, "the walker is closed");
    return NULL;
  }
  return w;
}

/* walkOpen(srcRoot: Buffer, dstRoot: Buffer | null, maxDirs: number, maxEntries: number, gated: boolean): External */
static napi_value js_walk_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (args_of(env, info, 5, argv, "walkOpen") < 0) return NULL;
  char *src = path_arg(env, argv[0]);
  if (!src) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  char *dst = NULL;
  if (t != napi_null) {
    dst = path_arg(env, argv[1]);
    if (!dst) {
      free(src);
      return NULL;
    }
  }
  uint32_t max_dirs = 0, max_entries = 0;
  napi_get_value_uint32(env, argv[2], &max_dirs);
  napi_get_value_uint32(env, argv[3], &max_entries);
  bool gated = false;
  napi_get_value_bool(env, argv[4], &gated);
  struct walker *w = calloc(1, sizeof *w);
  w->gated = gated;
  w->src_root = src;
  w->dst_root = dst;
  w->max_dirs = max_dirs > 0 ? max_dirs : 1;
  w->max_entries = max_entries > 0 ? max_entries : 1;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->room, NULL);
  pthread_cond_init(&w->work, NULL);
  push_stack(w, strdup(""));
  napi_value name, external;
  napi_create_string_utf8(env, "hlfs.walker", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, w, call_js, &w->tsfn) != napi_ok) {
    free(w->stack[0]);
    free(w->stack);
    free(src);
    free(dst);
    free(w);
    napi_throw_error(env, NULL, "walkOpen: cannot create the wake-up channel");
    return NULL;
  }
  /* Referenced only while JS waits: an idle walker must not keep the process alive. */
  napi_unref_threadsafe_function(env, w->tsfn);
  if (pthread_create(&w->t_src, NULL, src_thread, w) == 0) w->threads = 1;
  if (w->threads == 1 && pthread_create(&w->t_dst, NULL, dst_thread, w) == 0) w->threads = 2;
  if (w->threads < 2) {
    walker_close(env, w);
    free(w);
    return throw_errno(env, EAGAIN, "pthread_create");
  }
  napi_create_external(env, w, walker_finalize, NULL, &external);
  return external;
}

/*
 * walkTakePacked(walker, max): the directories listed on both sides, in walk order, up to max, packed
 * into one ArrayBuffer; false when none is ready yet; null when the walk is over and everything was
 * taken. Decoded by src/engine/tree-walker.ts (walkTake); keep the two in step.
 *
 * One buffer for the whole take instead of a Buffer or ArrayBuffer per name list, stat table, own
 * identity and path: each of those seven per directory cost ~2 µs to make from C (a backing store
 * each, tracked by V8), 14 µs a directory measured (median walkTake of one directory, small bench
 * tree); views made in JavaScript over one buffer cost a fraction of that.
 *
 * blob: uint32 n, then TAKE_WORDS uint32 per directory: rel offset, rel length, awaiting, then per
 * side (SRC, DST) status (0 listed, 1 failed, 2 not listed), names offset (failed: its errno), names
 * length, stats offset (8-byte aligned; SCAN_FIELDS int64 per entry, then the directory's own
 * [device, inode]), entry count. A failed side is only its errno: no Error object is made for it
 * (an initial copy's DST directories do not exist yet, one ENOENT each, and an Error with its stack
 * costs more than the listing).
 */
#define TAKE_WORDS 13
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static size_t side_bytes(const struct scan_result *r) {
  if (!r || r->err) return 0;
  return ALIGN8(r->n * SCAN_FIELDS * sizeof(int64_t) + 2 * sizeof(int64_t) + r->name_bytes);
}

/* Writes one listed side at *at (8-aligned) into blob, its words into d; returns the bytes used. */
static size_t pack_side(char *blob, size_t at, const struct scan_result *r, uint32_t *d) {
  int64_t *stats = (int64_t *)(blob + at);
  for (size_t i = 0; i < r->n; i++) memcpy(stats + i * SCAN_FIELDS, r->entries[i].f, sizeof r->entries[i].f);
  stats[r->n * SCAN_FIELDS] = r->self_dev;
  stats[r->n * SCAN_FIELDS + 1] = r->self_ino;
  size_t names_at = at + (r->n * SCAN_FIELDS + 2) * sizeof(int64_t);
  char *np = blob + names_at;
  for (size_t i = 0; i < r->n; i++) {
    size_t len = strlen(r->entries[i].name) + 1;
    memcpy(np, r->entries[i].name, len);
    np += len;
  }
  d[0] = 0;
  d[1] = (uint32_t)names_at;
  d[2] = (uint32_t)r->name_bytes;
  d[3] = (uint32_t)at;
  d[4] = (uint32_t)r->n;
  return side_bytes(r);
}

static napi_value js_walk_take(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (args_of(env, info, 2, argv, "walkTakePacked") < 0) return NULL;
  struct walker *w = walker_of(env, argv[0]);
  if (!w) return NULL;
  uint32_t max = 0;
  napi_get_value_uint32(env, argv[1], &max);
  pthread_mutex_lock(&w->mu);
  struct witem *head = w->q2_head, *last = NULL;
  size_t n = 0, entries = 0;
  for (struct witem *it = head; it && n < max; it = it->next) {
    last = it;
    n++;
    entries += it->entries;
  }
  int over = n == 0 && w->dst_done;
  if (n > 0) {
    w->q2_head = last->next;
    if (!w->q2_head) w->q2_tail = NULL;
    last->next = NULL;
    w->q2_len -= n;
    w->inflight_dirs -= n;
    w->inflight_entries -= entries;
    pthread_cond_signal(&w->room);
  }
  pthread_mutex_unlock(&w->mu);
  napi_value result;
  if (over) {
    napi_get_null(env, &result);
    return result;
  }
  if (n == 0) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  size_t total = ALIGN8((1 + n * TAKE_WORDS) * sizeof(uint32_t));
  for (struct witem *it = head; it; it = it->next) total += side_bytes(it->src) + side_bytes(it->dst) + ALIGN8(it->rel_len);
  if (total > UINT32_MAX) {
    for (struct witem *it = head, *next; it; it = next) { next = it->next; item_free(it); }
    napi_throw_range_error(env, NULL, "walkTakePacked: a take larger than 4 GiB");
    return NULL;
  }
  void *blob_data;
  napi_create_arraybuffer(env, total, &blob_data, &result);
  char *blob = blob_data;
  uint32_t *words = blob_data;
  words[0] = (uint32_t)n;
  size_t at = ALIGN8((1 + n * TAKE_WORDS) * sizeof(uint32_t));
  uint32_t i = 0;
  for (struct witem *it = head, *next; it; it = next, i++) {
    next = it->next;
    uint32_t *d = words + 1 + (size_t)i * TAKE_WORDS;
    const struct scan_result *sides[2] = {it->src, it->dst};
    for (int k = 0; k < 2; k++) {
      uint32_t *sd = d + 3 + 5 * k;
      const struct scan_result *r = sides[k];
      if (!r) {
        sd[0] = 2; sd[1] = sd[2] = sd[3] = sd[4] = 0;
      } else if (r->err) {
        sd[0] = 1; sd[1] = (uint32_t)r->err; sd[2] = sd[3] = sd[4] = 0;
      } else {
        at += pack_side(blob, at, r, sd);
      }
    }
    memcpy(blob + at, it->rel, it->rel_len);
    d[0] = (uint32_t)at;
    d[1] = (uint32_t)it->rel_len;
    d[2] = it->awaiting != 0;
    at += ALIGN8(it->rel_len);
    item_free(it);
  }
  return result;
}

/* walkWait(walker, atLeast): resolves once atLeast directories are ready, or the walk is over. */
static napi_value js_walk_wait(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (args_of(env, info, 2, argv, "walkWait") < 0) return NULL;
  struct walker *w = walker_of(env, argv[0]);
  if (!w) return NULL;
  if (w->deferred) {
    napi_throw_error(env, NULL, "walkWait: already waiting");
    return NULL;
  }
  uint32_t at_least = 1;
  napi_get_value_uint32(env, argv[1], &at_least);
  napi_value promise;
  napi_deferred d;
  napi_create_promise(env, &d, &promise);
  pthread_mutex_lock(&w->mu);
  /* Never more than the walker can hold, or it would wait for room while JS waits for it. */
  size_t want = at_least < 1 ? 1 : at_least;
  if (want > w->max_dirs) want = w->max_dirs;
  if (ready_for_js(w, want)) {
    pthread_mutex_unlock(&w->mu);
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, d, undef);
    return promise;
  }
  w->deferred = d;
  w->wake_at = want;
  w->js_waiting = 1;
  napi_ref_threadsafe_function(env, w->tsfn);
  pthread_mutex_unlock(&w->mu);
  return promise;
}

/*
 * walkPending(walker): gated: [rel, names] of the directory the walk waits on (its subdirectories'
 * names, NUL-terminated one after another, in byte order), once; null when there is none, or it was
 * shown already. Lets JS answer (walkDone) before the directory's DST side is even listed.
 */
static napi_value js_walk_pending(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args_of(env, info, 1, argv, "walkPending") < 0) return NULL;
  struct walker *w = walker_of(env, argv[0]);
  if (!w) return NULL;
  napi_value result;
  pthread_mutex_lock(&w->mu);
  if (!w->awaiting || w->shown || w->decided) {
    pthread_mutex_unlock(&w->mu);
    napi_get_null(env, &result);
    return result;
  }
  w->shown = 1;
  size_t rel_len = strlen(w->awaiting);
  size_t skip = rel_len > 0 ? rel_len + 1 : 0;
  size_t total = 0;
  for (size_t i = 0; i < w->await_n; i++) total += strlen(w->await_subs[i]) - skip + 1;
  napi_value rel, names;
  void *data;
  napi_create_buffer_copy(env, rel_len, w->awaiting, &data, &rel);
  napi_create_buffer(env, total, &data, &names);
  char *p = data;
  for (size_t i = 0; i < w->await_n; i++) {
    size_t len = strlen(w->await_subs[i]) - skip + 1;
    memcpy(p, w->await_subs[i] + skip, len);
    p += len;
  }
  pthread_mutex_unlock(&w->mu);
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, rel);
  napi_set_element(env, result, 1, names);
  return result;
}

/* walkSkip(walker, rel): do not list rel nor anything under it (JS does not want that subtree). */
static napi_value js_walk_skip(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (args_of(env, info, 2, argv, "walkSkip") < 0) return NULL;
  struct walker *w = walker_of(env, argv[0]);
  if (!w) return NULL;
  char *rel = path_arg(env, argv[1]);
  if (!rel) return NULL;
  pthread_mutex_lock(&w->mu);
  if (w->n_skips == w->cap_skips) {
    w->cap_skips = w->cap_skips ? 2 * w->cap_skips : 16;
    w->skips = realloc(w->skips, w->cap_skips * sizeof *w->skips);
  }
  w->skips[w->n_skips++] = rel;
  pthread_cond_broadcast(&w->room); /* the SRC thread may wait for a decision on this very directory */
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/*
 * walkDone(walker, rel, names): gated: of the subdirectories of rel (the directory the walk waits
 * on), list these (NUL-terminated names one after another, in byte order) and no other. Ignored for
 * any other directory.
 */
static napi_value js_walk_done(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (args_of(env, info, 3, argv, "walkDone") < 0) return NULL;
  struct walker *w = walker_of(env, argv[0]);
  if (!w) return NULL;
  char *rel = path_arg(env, argv[1]);
  if (!rel) return NULL;
  void *names;
  size_t len;
  if (buffer_arg(env, argv[2], "names", &names, &len)) {
    free(rel);
    return NULL;
  }
  if (len > 0 && ((char *)names)[len - 1] != 0) {
    free(rel);
    napi_throw_range_error(env, NULL, "walkDone: names must be NUL-terminated");
    return NULL;
  }
  pthread_mutex_lock(&w->mu);
  if (w->awaiting && !w->decided && strcmp(w->awaiting, rel) == 0) {
    w->decision = malloc(len ? len : 1);
    memcpy(w->decision, names, len);
    w->decision_len = len;
    w->decided = 1;
    pthread_cond_broadcast(&w->room);
  }
  pthread_mutex_unlock(&w->mu);
  free(rel);
  return NULL;
}

/* walkClose(walker): stops and joins the threads and frees what they listed. Idempotent. */
static napi_value js_walk_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args_of(env, info, 1, argv, "walkClose") < 0) return NULL;
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) == napi_ok && data) walker_close(env, data);
  return NULL;
}

void walker_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"walkOpen", NULL, js_walk_open, NULL, NULL, NULL, napi_default, NULL},
    {"walkTakePacked", NULL, js_walk_take, NULL, NULL, NULL, napi_default, NULL},
    {"walkWait", NULL, js_walk_wait, NULL, NULL, NULL, napi_default, NULL},
    {"walkSkip", NULL, js_walk_skip, NULL, NULL, NULL, napi_default, NULL},
    {"walkDone", NULL, js_walk_done, NULL, NULL, NULL, napi_default, NULL},
    {"walkPending", NULL, js_walk_pending, NULL, NULL, NULL, napi_default, NULL},
    {"walkClose", NULL, js_walk_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
