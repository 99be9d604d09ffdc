/* The scan of one directory: see scan.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "args.h"
#include "scan.h"

#define NS_PER_S 1000000000LL

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const struct scan_entry *)a)->name, ((const struct scan_entry *)b)->name);
}

/* The whole scan, touching no JS: runs on a libuv thread (scandirBatchAsync) or the walker's. */
void scan(struct scan_result *r) {
  int fd = open(r->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    r->err = errno;
    r->syscall = "scandir";
    if (fd >= 0) close(fd);
    return;
  }
  int dfd = dirfd(d);
  struct stat self;
  if (fstat(dfd, &self) == 0) {
    r->self_dev = (int64_t)self.st_dev;
    r->self_ino = (int64_t)self.st_ino;
  }
  size_t cap = 64;
  r->entries = malloc(cap * sizeof *r->entries);
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' && (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0))) continue;
    if (r->n == cap) {
      cap *= 2;
      r->entries = realloc(r->entries, cap * sizeof *r->entries);
    }
    struct scan_entry *e = &r->entries[r->n++];
    e->name = strdup(de->d_name);
    r->name_bytes += strlen(de->d_name) + 1;
    struct stat st;
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      memset(e->f, 0, sizeof e->f);
      e->f[7] = errno;
    } else {
      e->f[0] = st.st_mode;
      e->f[1] = st.st_uid;
      e->f[2] = st.st_gid;
      e->f[3] = st.st_size;
      e->f[4] = (int64_t)st.st_mtim.tv_sec * NS_PER_S + st.st_mtim.tv_nsec;
      e->f[5] = (int64_t)st.st_atim.tv_sec * NS_PER_S + st.st_atim.tv_nsec;
      e->f[6] = (int64_t)st.st_rdev;
      e->f[7] = 0;
      e->f[8] = (int64_t)st.st_ino;
      e->f[9] = (int64_t)st.st_dev;
    }
    errno = 0;
  }
  if (errno != 0) {
    r->err = errno;
    r->syscall = "readdir";
  }
  closedir(d);
  qsort(r->entries, r->n, sizeof *r->entries, cmp_entry);
}

void scan_free(struct scan_result *r) {
  for (size_t i = 0; i < r->n; i++) free(r->entries[i].name);
  free(r->entries);
  free(r->path);
  free(r);
}

/* Builds [names, stats] or an error; frees r. Returns the error in *error when there is one. */
napi_value scan_to_js(napi_env env, struct scan_result *r, napi_value *error) {
  *error = NULL;
  if (r->err != 0) {
    throw_errno(env, r->err, r->syscall);
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    *error = exc;
    scan_free(r);
    return NULL;
  }
  napi_value names, stats_ab, self_ab, result;
  void *names_data, *stats_data, *self_data;
  napi_create_buffer(env, r->name_bytes, &names_data, &names);
  napi_create_arraybuffer(env, 2 * sizeof(int64_t), &self_data, &self_ab);
  ((int64_t *)self_data)[0] = r->self_dev;
  ((int64_t *)self_data)[1] = r->self_ino;
  napi_create_arraybuffer(env, r->n * SCAN_FIELDS * sizeof(int64_t), &stats_data, &stats_ab);
  char *np = names_data;
  int64_t *sp = stats_data;
  for (size_t i = 0; i < r->n; i++) {
    size_t len = strlen(r->entries[i].name) + 1;
    memcpy(np, r->entries[i].name, len);
    np += len;
    memcpy(sp, r->entries[i].f, sizeof r->entries[i].f);
    sp += SCAN_FIELDS;
  }
  napi_create_array_with_length(env, 3, &result);
  napi_set_element(env, result, 0, names);
  napi_set_element(env, result, 1, stats_ab);
  napi_set_element(env, result, 2, self_ab);
  scan_free(r);
  return result;
}

