/*
 * The copier: threads of the addon's own that run copy_batch_run (native/hlfs.c) on the packed
 * batches the mirror hands over, in order, each through its own 64 KiB buffer. The copies and their
 * hashing were already all in C; what a copy worker thread (piscina) added around them was a V8
 * isolate per worker, its start-up, the message round trip and the worker's JavaScript per batch.
 *
 * copierOpen(threads, stem, onDone): External. onDone(id) runs on the main thread when the batch
 *   submitted as id is done (its res and hex filled in: see copy_batch_run).
 * copierSubmit(copier, id, packed: ArrayBuffer, count, res: Float64Array(count * 4), hex: Buffer(count * 16))
 *   queues a batch. The caller keeps packed, res and hex alive (and untouched) until onDone(id).
 * copierStop(copier): batches not started are done at once, untouched (res all 0); a batch being
 *   copied stops before its next file. onDone still comes for every batch.
 * copierClose(copier): joins the threads (stop first, or wait for every onDone); idempotent.
 *
 * The threadsafe function that carries onDone keeps the event loop alive only while batches are out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "args.h"

#define COPIER_MAX_THREADS 64
#define COPIER_BUFFER 65536

struct cjob {
  double id;
  const void *packed;
  size_t packed_len;
  uint32_t count;
  double *res;
  char *hex;
  struct cjob *next;
};

struct copier {
  pthread_mutex_t mu;
  pthread_cond_t work;
  struct cjob *q_head, *q_tail;       /* submitted, not started */
  struct cjob *done_head, *done_tail; /* done, onDone not called yet */
  volatile int stop;
  char *stem;
  size_t stem_len;
  napi_threadsafe_function tsfn;
  size_t out; /* main thread only: submitted, onDone not called yet */
  pthread_t threads[COPIER_MAX_THREADS];
  int n_threads, closed;
};

struct targ {
  struct copier *c;
  int index;
};

static void push_done(struct copier *c, struct cjob *j) {
  j->next = NULL;
  if (c->done_tail) c->done_tail->next = j;
  else c->done_head = j;
  c->done_tail = j;
}

static void *copier_thread(void *arg) {
  struct targ *t = arg;
  struct copier *c = t->c;
  /* Each thread its own temp names: the stem, then "n<thread>.", then a counter of its own. */
  size_t stem_len = c->stem_len + 16;
  char *stem = malloc(stem_len);
  memcpy(stem, c->stem, c->stem_len);
  stem_len = c->stem_len + (size_t)snprintf(stem + c->stem_len, 16, "n%d.", t->index);
  free(t);
  char *buf = malloc(COPIER_BUFFER);
  double counter = 0;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->stop && c->q_head == NULL) pthread_cond_wait(&c->work, &c->mu);
    struct cjob *j = c->q_head;
    if (j == NULL) break; /* stopped, nothing left */
    c->q_head = j->next;
    if (c->q_head == NULL) c->q_tail = NULL;
    if (!c->stop) {
      pthread_mutex_unlock(&c->mu);
      counter += copy_batch_run(j->packed, j->packed_len, j->count, stem, stem_len, counter, buf, COPIER_BUFFER, j->res, j->hex, &c->stop);
      pthread_mutex_lock(&c->mu);
    } else {
      for (size_t i = 0; i < (size_t)j->count * 4; i++) j->res[i] = 0;
    }
    push_done(c, j);
    napi_call_threadsafe_function(c->tsfn, NULL, napi_tsfn_nonblocking);
  }
  pthread_mutex_unlock(&c->mu);
  free(buf);
  free(stem);
  return NULL;
}

/* Main thread: onDone for every batch done since the last call. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  struct copier *c = context;
  if (env == NULL) return;
  pthread_mutex_lock(&c->mu);
  struct cjob *j = c->done_head;
  c->done_head = c->done_tail = NULL;
  pthread_mutex_unlock(&c->mu);
  napi_value undef;
  napi_get_undefined(env, &undef);
  while (j) {
    struct cjob *next = j->next;
    napi_value id;
    napi_create_double(env, j->id, &id);
    free(j);
    if (c->out > 0 && --c->out == 0) napi_unref_threadsafe_function(env, c->tsfn);
    napi_call_function(env, undef, js_cb, 1, &id, NULL);
    j = next;
  }
}

static void copier_close(napi_env env, struct copier *c) {
  if (c->closed) return;
  c->closed = 1;
  pthread_mutex_lock(&c->mu);
  c->stop = 1;
  pthread_cond_broadcast(&c->work);
  pthread_mutex_unlock(&c->mu);
  for (int i = 0; i < c->n_threads; i++) pthread_join(c->threads[i], NULL);
  /* onDone is not called after close: the caller closes only when nothing is out, or gives up on it */
  for (struct cjob *j = c->done_head, *next; j; j = next) {
    next = j->next;
    free(j);
  }
  c->done_head = c->done_tail = NULL;
  if (c->out > 0 && env) napi_unref_threadsafe_function(env, c->tsfn);
  c->out = 0;
  napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
  free(c->stem);
  c->stem = NULL;
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->work);
}

static void copier_finalize(napi_env env, void *data, void *hint) {
  struct copier *c = data;
  copier_close(env, c);
  free(c);
}

static struct copier *copier_of(napi_env env, napi_value v) {
  struct copier *c = external_arg(env, v, "copier");
  if (!c) return NULL;
  if (c->closed) {
    napi_throw_error(env, NULL, "the copier is closed");
    return NULL;
  }
  return c;
}

static napi_value js_copier_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (args_of(env, info, 3, argv, "copierOpen")) return NULL;
  uint32_t threads = 0;
  napi_get_value_uint32(env, argv[0], &threads);
  if (threads < 1 || threads > COPIER_MAX_THREADS) {
    napi_throw_range_error(env, NULL, "copierOpen: threads must be 1 to 64");
    return NULL;
  }
  void *stem;
  size_t stem_len;
  if (buffer_arg(env, argv[1], "stem", &stem, &stem_len)) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "copierOpen: onDone must be a function");
    return NULL;
  }
  struct copier *c = calloc(1, sizeof *c);
  c->stem = malloc(stem_len + 1);
  memcpy(c->stem, stem, stem_len);
  c->stem_len = stem_len;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->work, NULL);
  napi_value name;
  napi_create_string_utf8(env, "hlfs.copier", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, c, call_js, &c->tsfn) != napi_ok) {
    free(c->stem);
    free(c);
    napi_throw_error(env, NULL, "copierOpen: cannot create the completion channel");
    return NULL;
  }
  napi_unref_threadsafe_function(env, c->tsfn);
  for (uint32_t i = 0; i < threads; i++) {
    struct targ *a = malloc(sizeof *a);
    a->c = c;
    a->index = (int)i;
    if (pthread_create(&c->threads[i], NULL, copier_thread, a) != 0) {
      free(a);
      copier_close(env, c);
      free(c);
      return throw_errno(env, EAGAIN, "pthread_create");
    }
    c->n_threads++;
  }
  napi_value external;
  napi_create_external(env, c, copier_finalize, NULL, &external);
  return external;
}

static napi_value js_copier_submit(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (args_of(env, info, 6, argv, "copierSubmit")) return NULL;
  struct copier *c = copier_of(env, argv[0]);
  if (!c) return NULL;
  double id;
  uint32_t count;
  napi_get_value_double(env, argv[1], &id);
  napi_get_value_uint32(env, argv[3], &count);
  void *packed;
  size_t packed_len;
  if (napi_get_arraybuffer_info(env, argv[2], &packed, &packed_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "copierSubmit: packed must be an ArrayBuffer");
    return NULL;
  }
  void *res;
  if (typed_arg(env, argv[4], napi_float64_array, (size_t)count * 4, &res)) return NULL;
  void *hex;
  size_t hex_len;
  if (buffer_arg(env, argv[5], "hex", &hex, &hex_len)) return NULL;
  if (hex_len < (size_t)count * 16) {
    napi_throw_range_error(env, NULL, "copierSubmit: hex must hold 16 bytes a task");
    return NULL;
  }
  struct cjob *j = calloc(1, sizeof *j);
  j->id = id;
  j->packed = packed;
  j->packed_len = packed_len;
  j->count = count;
  j->res = res;
  j->hex = hex;
  if (c->out++ == 0) napi_ref_threadsafe_function(env, c->tsfn);
  pthread_mutex_lock(&c->mu);
  if (c->q_tail) c->q_tail->next = j;
  else c->q_head = j;
  c->q_tail = j;
  pthread_cond_signal(&c->work);
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

static napi_value js_copier_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args_of(env, info, 1, argv, "copierStop")) return NULL;
  struct copier *c = copier_of(env, argv[0]);
  if (!c) return NULL;
  pthread_mutex_lock(&c->mu);
  c->stop = 1;
  /* the batches not started are done now, untouched */
  for (struct cjob *j = c->q_head, *next; j; j = next) {
    next = j->next;
    for (size_t i = 0; i < (size_t)j->count * 4; i++) j->res[i] = 0;
    push_done(c, j);
  }
  int any = c->q_head != NULL;
  c->q_head = c->q_tail = NULL;
  pthread_cond_broadcast(&c->work);
  pthread_mutex_unlock(&c->mu);
  if (any) napi_call_threadsafe_function(c->tsfn, NULL, napi_tsfn_nonblocking);
  return NULL;
}

static napi_value js_copier_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args_of(env, info, 1, argv, "copierClose")) return NULL;
  struct copier *c = external_arg(env, argv[0], "copier");
  if (c) copier_close(env, c);
  return NULL;
}

void copier_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"copierOpen", NULL, js_copier_open, NULL, NULL, NULL, napi_default, NULL},
    {"copierSubmit", NULL, js_copier_submit, NULL, NULL, NULL, napi_default, NULL},
    {"copierStop", NULL, js_copier_stop, NULL, NULL, NULL, napi_default, NULL},
    {"copierClose", NULL, js_copier_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
