/*
 * hlfs: the system calls Node's fs cannot make faithfully, and the hot paths that cost too much
 * through it.
 *
 * - utimensat/futimens with nanosecond BigInt times: fs.utimes goes through a double and keeps only
 *   microseconds (and mangles times before 1970), while rsync -a keeps every nanosecond.
 * - mknod for fifos, sockets and device nodes: Node has no mknod at all.
 * - syncfs, before the manifest commits.
 * - Directory scans (scan.c, walker.c) and file copies hashed as they go (copyFile; copier.c): one
 *   call per directory or batch instead of one per system call.
 *
 * Paths are Buffers (names are bytes); errors are thrown as Error objects carrying Node's usual
 * `code` (e.g. "ENOENT"), `errno` and `syscall`, so callers treat them like fs errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "args.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

#define NS_PER_S 1000000000LL

napi_value throw_errno(napi_env env, int err, const char *syscall) {
  const char *code = uv_err_name(-err);
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s, %s", code, strerror(err), syscall);
  napi_value jmsg, jcode, jerr, jerrno, jsys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode);
  napi_create_error(env, jcode, jmsg, &jerr);
  napi_create_int32(env, -err, &jerrno);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &jsys);
  napi_set_named_property(env, jerr, "code", jcode);
  napi_set_named_property(env, jerr, "errno", jerrno);
  napi_set_named_property(env, jerr, "syscall", jsys);
  napi_throw(env, jerr);
  return NULL;
}

/* Copies a Buffer argument into a NUL-terminated C string; returns NULL after throwing. */
char *path_arg(napi_env env, napi_value v) {
  void *data;
  size_t len;
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (!is_buf) {
    napi_throw_type_error(env, NULL, "path must be a Buffer");
    return NULL;
  }
  napi_get_buffer_info(env, v, &data, &len);
  if (memchr(data, 0, len) != NULL) {
    napi_throw_type_error(env, NULL, "path contains a NUL byte");
    return NULL;
  }
  char *s = malloc(len + 1);
  memcpy(s, data, len);
  s[len] = 0;
  return s;
}

static int ns_arg(napi_env env, napi_value v, struct timespec *ts) {
  int64_t ns;
  bool lossless;
  if (napi_get_value_bigint_int64(env, v, &ns, &lossless) != napi_ok) {
    napi_throw_type_error(env, NULL, "time must be a BigInt of nanoseconds");
    return -1;
  }
  /* floor division, so times before 1970 keep a tv_nsec in [0, 1e9) */
  int64_t sec = ns / NS_PER_S;
  int64_t rem = ns % NS_PER_S;
  if (rem < 0) { rem += NS_PER_S; sec -= 1; }
  ts->tv_sec = sec;
  ts->tv_nsec = rem;
  return 0;
}

/* utimensat(path: Buffer, atimeNs: bigint, mtimeNs: bigint, noFollow: boolean): void */
static napi_value js_utimensat(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct timespec ts[2];
  if (ns_arg(env, argv[1], &ts[0]) || ns_arg(env, argv[2], &ts[1])) return NULL;
  bool nofollow = false;
  napi_get_value_bool(env, argv[3], &nofollow);
  char *p = path_arg(env, argv[0]);
  if (!p) return NULL;
  int rc = utimensat(AT_FDCWD, p, ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
  int err = errno;
  free(p);
  if (rc != 0) return throw_errno(env, err, "utimensat");
  return NULL;
}

/* futimens(fd: number, atimeNs: bigint, mtimeNs: bigint): void */
static napi_value js_futimens(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  napi_get_value_int32(env, argv[0], &fd);
  struct timespec ts[2];
  if (ns_arg(env, argv[1], &ts[0]) || ns_arg(env, argv[2], &ts[1])) return NULL;
  if (futimens(fd, ts) != 0) return throw_errno(env, errno, "futimens");
  return NULL;
}

/* mknod(path: Buffer, mode: number (type and permission bits), rdev: bigint): void */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t mode;
  napi_get_value_uint32(env, argv[1], &mode);
  uint64_t rdev;
  bool lossless;
  if (napi_get_value_bigint_uint64(env, argv[2], &rdev, &lossless) != napi_ok) {
    napi_throw_type_error(env, NULL, "rdev must be a BigInt");
    return NULL;
  }
  char *p = path_arg(env, argv[0]);
  if (!p) return NULL;
  int rc = mknod(p, (mode_t)mode, (dev_t)rdev);
  int err = errno;
  free(p);
  if (rc != 0) return throw_errno(env, err, "mknod");
  return NULL;
}

/*
 * syncfs(path): flushes the filesystem holding path (a directory) to its disk, as `sync -f` does,
 * without starting a process for it. Throws fs-style errors.
 */
static napi_value js_syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args_of(env, info, 1, argv, "syncfs")) return NULL;
  char *p = path_arg(env, argv[0]);
  if (!p) return NULL;
  int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(p);
  if (fd < 0) return throw_errno(env, errno, "open");
  int rc = syncfs(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return throw_errno(env, err, "syncfs");
  return NULL;
}

#include "scan.h"

static struct scan_result *scan_new(napi_env env, napi_value path) {
  char *p = path_arg(env, path);
  if (!p) return NULL;
  struct scan_result *r = calloc(1, sizeof *r);
  r->path = p;
  return r;
}

/*
 * scandirBatchAsync(dirs: (Buffer | null)[]): Promise<(ScanSide | null)[]>: several directories (the
 * walk passes a few directories' source and destination sides) in one job on libuv's pool. Each
 * hand-off between threads costs tens of µs on these VMs (measured: ~70 µs of main-thread CPU per
 * job on a 50,000-file no-op), so the walk sends its next directories together. Each side is
 * [names, stats, self] or the Error its scan failed with (not thrown: the others may be fine);
 * null where the input was null.
 */
struct batch_job {
  size_t n;
  struct scan_result **r;
  napi_deferred deferred;
  napi_async_work work;
};

static void batch_execute(napi_env env, void *data) {
  struct batch_job *j = data;
  for (size_t i = 0; i < j->n; i++)
    if (j->r[i]) scan(j->r[i]);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  struct batch_job *j = data;
  napi_value result, side, error;
  napi_create_array_with_length(env, j->n, &result);
  for (size_t i = 0; i < j->n; i++) {
    if (j->r[i]) {
      side = scan_to_js(env, j->r[i], &error);
      if (error) side = error;
    } else {
      napi_get_null(env, &side);
    }
    napi_set_element(env, result, (uint32_t)i, side);
  }
  napi_resolve_deferred(env, j->deferred, result);
  napi_delete_async_work(env, j->work);
  free(j->r);
  free(j);
}

static napi_value js_scandir_batch_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "dirs must be an array of Buffers or nulls");
    return NULL;
  }
  uint32_t n;
  napi_get_array_length(env, argv[0], &n);
  struct batch_job *j = calloc(1, sizeof *j);
  j->n = n;
  j->r = calloc(n ? n : 1, sizeof *j->r);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_valuetype t;
    napi_get_element(env, argv[0], i, &v);
    napi_typeof(env, v, &t);
    if (t == napi_null || t == napi_undefined) continue;
    j->r[i] = scan_new(env, v);
    if (!j->r[i]) {
      for (uint32_t k = 0; k < i; k++)
        if (j->r[k]) scan_free(j->r[k]);
      free(j->r);
      free(j);
      return NULL;
    }
  }
  return queue_job(env, "hlfs.scandirBatchAsync", batch_execute, batch_complete, j, &j->deferred, &j->work);
}

/*
 * copyFile(src, dst, stem, buffer, nums, times, out: Int32Array(3), hex: Buffer(16)): number
 *
 * The whole copy of one regular file in one call, hashing every byte with XXH64 as it goes, so a
 * file costs its system calls and not a crossing from JavaScript each (measured here, 50,000 files of
 * 1-16 KiB, one thread: the same calls from Node's fs took 2.8 s against 1.7-2.3 s from C).
 * A file smaller than the buffer (size + 1 <= buffer.length): open(O_NOFOLLOW|O_NONBLOCK), read
 * size+1 bytes, fstat, close; refuse a file that is no longer regular, another inode, or of another
 * size or mtime than the walk saw; then open a temp file beside dst (O_EXCL, named stem + hex
 * counter), write, fchown/fchmod when asked, futimens, close, rename over dst. A bigger file is read
 * and written a buffer at a time into the temp file (a buffer of 64 KiB is still in the CPU cache
 * when it is hashed and written), then checked with fstat the same way before the rename.
 *
 * nums (Float64Array(6)): size, permission bits, uid, gid, flags (1 chown, 2 chmod, 4 inode known,
 * 8 device known), temp counter; times (BigInt64Array(4)): mtime ns, atime ns, inode, device (typed
 * arrays the caller reuses: no BigInt is made per file for the small numbers). Returns the bytes
 * copied, with their XXH64 as 16 hex digits in hex, or -1 - bytes read with out = [stage, errno,
 * temp names tried]; stages are COPY_* below. A failed copy leaves no temp file.
 */
enum { COPY_OK, COPY_OPEN_SRC, COPY_READ, COPY_FSTAT, COPY_NOT_REG, COPY_REPLACED, COPY_CHANGED,
       COPY_OPEN_TMP, COPY_WRITE, COPY_FCHOWN, COPY_FCHMOD, COPY_FUTIMENS, COPY_CLOSE, COPY_RENAME };

static ssize_t read_full(int fd, char *p, size_t want) {
  size_t total = 0;
  while (total < want) {
    ssize_t n = read(fd, p + total, want - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    total += (size_t)n;
    /* a regular file returns short only at its end: one read answers "is that all?" */
    if (total < want) break;
  }
  return (ssize_t)total;
}

static int write_full(int fd, const char *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, p + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += (size_t)w;
  }
  return 0;
}

/* Why the file read is not the one the walk saw (COPY_OK: it is). */
static int source_moved(const struct stat *st, int64_t copied, int64_t size, int64_t flags, const int64_t *times) {
  if (!S_ISREG(st->st_mode)) return COPY_NOT_REG;
  if (((flags & 4) && (int64_t)st->st_ino != times[2]) || ((flags & 8) && (int64_t)st->st_dev != times[3])) return COPY_REPLACED;
  int64_t mtime = (int64_t)st->st_mtim.tv_sec * NS_PER_S + st->st_mtim.tv_nsec;
  if (copied != size || st->st_size != size || mtime != times[0]) return COPY_CHANGED;
  return COPY_OK;
}

/* A temp file beside dst, created O_EXCL; its name in *tmp (malloc'ed). -1 with out set when none could be made. */
static int open_temp(int ddir, const char *dst, const char *stem, size_t stem_len, int64_t counter, mode_t perm, char **tmp, int32_t *out) {
  const char *slash = strrchr(dst, '/');
  size_t dir_len = slash ? (size_t)(slash - dst) + 1 : 0;
  char *name = malloc(dir_len + stem_len + 24);
  memcpy(name, dst, dir_len);
  memcpy(name + dir_len, stem, stem_len);
  for (int attempt = 0; ; attempt++) {
    snprintf(name + dir_len + stem_len, 24, "%llx", (unsigned long long)(counter + attempt));
    out[2] = attempt + 1;
    int fd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm & 0777);
    if (fd >= 0) {
      *tmp = name;
      return fd;
    }
    if (errno != EEXIST || attempt > 5) {
      out[0] = COPY_OPEN_TMP; out[1] = errno;
      free(name);
      return -1;
    }
  }
}

/*
 * Owner, mode and times onto the temp file, close it, rename it over dst; with a stage already failed
 * (or failing here), the temp file is removed instead. Frees tmp. Returns the stage.
 */
static int finish_temp(int fd, int ddir, char *tmp, const char *dst, int stage, int err, const double *nums, const int64_t *times, int32_t *out) {
  int64_t flags = (int64_t)nums[4];
  mode_t perm = (mode_t)((int64_t)nums[1] & 07777);
  struct timespec ts[2];
  ts[0].tv_sec = times[1] / NS_PER_S; ts[0].tv_nsec = times[1] % NS_PER_S;
  if (ts[0].tv_nsec < 0) { ts[0].tv_nsec += NS_PER_S; ts[0].tv_sec -= 1; }
  ts[1].tv_sec = times[0] / NS_PER_S; ts[1].tv_nsec = times[0] % NS_PER_S;
  if (ts[1].tv_nsec < 0) { ts[1].tv_nsec += NS_PER_S; ts[1].tv_sec -= 1; }
  /* chown before chmod: chown clears setuid/setgid */
  if (!stage && (flags & 1) && fchown(fd, (uid_t)nums[2], (gid_t)nums[3]) != 0) { stage = COPY_FCHOWN; err = errno; }
  if (!stage && (flags & 2) && fchmod(fd, perm) != 0) { stage = COPY_FCHMOD; err = errno; }
  if (!stage && futimens(fd, ts) != 0) { stage = COPY_FUTIMENS; err = errno; }
  if (close(fd) != 0 && !stage) { stage = COPY_CLOSE; err = errno; }
  if (!stage && renameat(ddir, tmp, ddir, dst) != 0) { stage = COPY_RENAME; err = errno; }
  if (stage) unlinkat(ddir, tmp, 0);
  free(tmp);
  out[0] = stage; out[1] = stage ? err : 0;
  return stage;
}

/* A file of cap bytes or more: read, hash and write a buffer at a time, then check the source with fstat. */
static int copy_streamed(int in, int ddir, const char *dst, const char *stem, size_t stem_len, char *buf, size_t cap,
                         const double *nums, const int64_t *times, int32_t *out, ssize_t *copied, uint64_t *hash) {
  int64_t size = (int64_t)nums[0];
  char *tmp;
  int fd = open_temp(ddir, dst, stem, stem_len, (int64_t)nums[5], (mode_t)((int64_t)nums[1] & 07777), &tmp, out);
  if (fd < 0) { close(in); return -1; }
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  int64_t total = 0;
  int stage = COPY_OK, err = 0;
  for (;;) {
    ssize_t n = read(in, buf, cap);
    if (n < 0) {
      if (errno == EINTR) continue;
      stage = COPY_READ; err = errno; break;
    }
    if (n == 0) break;
    XXH64_update(&state, buf, (size_t)n);
    if (write_full(fd, buf, (size_t)n) != 0) { stage = COPY_WRITE; err = errno; break; }
    total += n;
    if (total > size) break; /* grown since the walk: the check below refuses it */
  }
  *copied = total;
  struct stat st;
  if (fstat(in, &st) != 0) {
    if (!stage) { stage = COPY_FSTAT; err = errno; }
  } else {
    /* a source that is not what the walk saw explains a failed read: that is the answer */
    int moved = source_moved(&st, total, size, (int64_t)nums[4], times);
    if (moved == COPY_NOT_REG || moved == COPY_REPLACED || (!stage && moved)) { stage = moved; err = 0; }
  }
  close(in);
  if (finish_temp(fd, ddir, tmp, dst, stage, err, nums, times, out)) return -1;
  *hash = XXH64_digest(&state);
  return 0;
}

static int copy_file(int sdir, const char *src, int ddir, const char *dst, const char *stem, size_t stem_len, char *buf,
                     size_t cap, const double *nums, const int64_t *times, int32_t *out, ssize_t *copied, uint64_t *hash) {
  int64_t size = (int64_t)nums[0];
  out[2] = 0;
  *copied = 0;
  if (size < 0 || cap == 0) { out[0] = COPY_READ; out[1] = EINVAL; return -1; }
  int in = openat(sdir, src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) { out[0] = COPY_OPEN_SRC; out[1] = errno; return -1; }
  if ((uint64_t)size + 1 > cap) return copy_streamed(in, ddir, dst, stem, stem_len, buf, cap, nums, times, out, copied, hash);
  ssize_t total = read_full(in, buf, (size_t)size + 1);
  int read_err = total < 0 ? errno : 0;
  struct stat st;
  int fstat_rc = fstat(in, &st);
  int fstat_err = errno;
  close(in);
  if (fstat_rc != 0) { out[0] = COPY_FSTAT; out[1] = fstat_err; return -1; }
  if (!S_ISREG(st.st_mode)) { out[0] = COPY_NOT_REG; out[1] = 0; return -1; }
  if (read_err) { out[0] = COPY_READ; out[1] = read_err; return -1; }
  *copied = total;
  int moved = source_moved(&st, total, size, (int64_t)nums[4], times);
  if (moved) { out[0] = moved; out[1] = 0; return -1; }
  char *tmp;
  int fd = open_temp(ddir, dst, stem, stem_len, (int64_t)nums[5], (mode_t)((int64_t)nums[1] & 07777), &tmp, out);
  if (fd < 0) return -1;
  int stage = COPY_OK, err = 0;
  if (write_full(fd, buf, (size_t)total) != 0) { stage = COPY_WRITE; err = errno; }
  if (finish_temp(fd, ddir, tmp, dst, stage, err, nums, times, out)) return -1;
  *hash = XXH64(buf, (size_t)total, 0);
  return 0;
}

/* A job for libuv's pool and the promise it settles: execute runs there, complete back on the main
 * thread, where it settles *deferred and deletes *work. */
napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete,
                     void *data, napi_deferred *deferred, napi_async_work *work) {
  napi_value promise, resource;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_create_async_work(env, NULL, resource, execute, complete, data, work);
  napi_queue_async_work(env, *work);
  return promise;
}

/* Reads exactly n arguments into argv; -1 after throwing when fewer were passed. */
int args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *name) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s takes %zu arguments", name, n);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

/* The pointer an External holds (a walker, a copier); NULL after throwing "not a <what>". */
void *external_arg(napi_env env, napi_value v, const char *what) {
  void *data = NULL;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data) {
    char msg[64];
    snprintf(msg, sizeof msg, "not a %s", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return data;
}

/* A Buffer argument's bytes (not copied); -1 after throwing when it is not a Buffer. */
int buffer_arg(napi_env env, napi_value v, const char *what, void **data, size_t *len) {
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (!is_buf) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a Buffer", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  napi_get_buffer_info(env, v, data, len);
  return 0;
}

int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data) {
  napi_typedarray_type type;
  size_t length;
  if (napi_get_typedarray_info(env, v, &type, &length, data, NULL, NULL) != napi_ok || type != want || length < min) {
    napi_throw_type_error(env, NULL, "bad typed array argument");
    return -1;
  }
  return 0;
}

static napi_value js_copy_file(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (args_of(env, info, 8, argv, "copyFile")) return NULL;
  void *stem;
  size_t stem_len;
  void *buf;
  size_t cap;
  void *hex;
  size_t hex_len;
  if (buffer_arg(env, argv[2], "stem", &stem, &stem_len) || buffer_arg(env, argv[3], "buffer", &buf, &cap) ||
      buffer_arg(env, argv[7], "hex", &hex, &hex_len))
    return NULL;
  if (hex_len < 16) {
    napi_throw_range_error(env, NULL, "copyFile: hex must hold 16 bytes");
    return NULL;
  }
  void *nums;
  void *times;
  void *out;
  if (typed_arg(env, argv[4], napi_float64_array, 6, &nums) || typed_arg(env, argv[5], napi_bigint64_array, 4, &times) ||
      typed_arg(env, argv[6], napi_int32_array, 3, &out))
    return NULL;
  char *src = path_arg(env, argv[0]);
  if (!src) return NULL;
  char *dst = path_arg(env, argv[1]);
  if (!dst) { free(src); return NULL; }
  ssize_t copied = 0;
  uint64_t hash = 0;
  int rc = copy_file(AT_FDCWD, src, AT_FDCWD, dst, stem, stem_len, buf, cap, nums, times, out, &copied, &hash);
  free(src);
  free(dst);
  if (rc == 0) xxh64_hex_into(hex, hash);
  napi_value result;
  napi_create_double(env, rc == 0 ? (double)copied : -1 - (double)copied, &result);
  return result;
}

#define BATCH_BIGS 4
#define BATCH_NUMS 9

/*
 * copyFile for every 'copy' task of a batch, run by the copier's threads (native/copier.c), in the
 * layout of src/engine/batch-codec.ts (keep the two in step): count * 4 int64 (mtime ns, atime ns,
 * inode, device), then count * 9 float64 (kind, size, mode, uid, gid, flags, umask, length of src,
 * length of dst), then the path bytes. res per task: [1, bytes, 0, 0] copied, its XXH64 in
 * hex[16 * i, 16 * i + 16); [2, stage, errno, bytes read] failed; [0, 0, 0, 0] left to the caller
 * (another kind, a path too long for the stack buffers, or not reached once *stop was set). Returns
 * the temp names used. One call per batch instead of one per file: the JavaScript around each copy
 * was ~20 % of a worker's samples on the 50,000-file tree (perf).
 */
/*
 * The directory of the last file a batch read (or wrote), open as an O_PATH descriptor. The files of
 * a batch mostly share their directories, and with the descriptor the kernel looks up only a name's
 * last component, where a full path is walked component by component on every open and twice on
 * every rename: path lookup was the largest part of the copier threads' system time on the 50,000
 * small files of the bench (perf).
 */
struct dir_cache {
  int fd;
  size_t len;
  char path[4096];
};

/* The descriptor and name to reach p by: its directory's descriptor and the name after the last '/',
 * or AT_FDCWD and p itself when that directory cannot be opened (the call on the full path then
 * fails, or not, as it always did). */
static int dir_for(struct dir_cache *c, const char *p, const char **name) {
  const char *slash = strrchr(p, '/');
  *name = p;
  if (slash == NULL || slash == p) return AT_FDCWD;
  size_t len = (size_t)(slash - p);
  if (c->fd >= 0 && c->len == len && memcmp(c->path, p, len) == 0) {
    *name = slash + 1;
    return c->fd;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->len = 0;
  memcpy(c->path, p, len);
  c->path[len] = 0;
  int fd = open(c->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return AT_FDCWD;
  c->fd = fd;
  c->len = len;
  *name = slash + 1;
  return fd;
}

double copy_batch_run(const void *packed, size_t packed_len, uint32_t count, const char *stem, size_t stem_len,
                      double counter0, char *buf, size_t cap, double *res, char *hex, const volatile int *stop) {
  size_t head = (size_t)count * (BATCH_BIGS + BATCH_NUMS) * 8;
  for (uint32_t i = 0; i < (size_t)count * 4; i++) res[i] = 0;
  if (packed_len < head) return 0;
  const int64_t *bigs = packed;
  const double *nums = (const double *)((const char *)packed + (size_t)count * BATCH_BIGS * 8);
  const char *paths = (const char *)packed + head;
  size_t paths_len = packed_len - head;
  size_t at = 0;
  double counter = counter0;
  char src[4096], dst[4096];
  struct dir_cache src_dir = {.fd = -1}, dst_dir = {.fd = -1};
  for (uint32_t i = 0; i < count; i++) {
    if (stop && *stop) break;
    const double *n = nums + (size_t)i * BATCH_NUMS;
    const int64_t *g = bigs + (size_t)i * BATCH_BIGS;
    double *r = res + (size_t)i * 4;
    size_t len_a = (size_t)n[7];
    size_t len_b = n[0] == 0 || n[0] == 1 ? (size_t)n[8] : 0;
    size_t here = at;
    at += len_a + len_b;
    if (at > paths_len) break; /* malformed: leave the rest to the caller */
    double size = n[1];
    if (n[0] != 0 || size < 0) continue;
    if (len_a >= sizeof src || len_b >= sizeof dst) continue;
    if (memchr(paths + here, 0, len_a + len_b) != NULL) continue;
    memcpy(src, paths + here, len_a);
    src[len_a] = 0;
    memcpy(dst, paths + here + len_a, len_b);
    dst[len_b] = 0;
    int64_t flags = (int64_t)n[5];
    int64_t perm = (int64_t)n[2] & 07777;
    int64_t umask_bits = (int64_t)n[6];
    bool chown_it = flags & 1;
    /* the same rule as copyFileSync: chmod unless open() under this umask already gave the mode */
    bool chmod_it = chown_it || !(flags & 2) || (perm & ~umask_bits) != perm || perm > 0777;
    double file_nums[6] = {size, (double)perm, n[3], n[4], (double)((chown_it ? 1 : 0) | (chmod_it ? 2 : 0) | (flags & 4) | (flags & 8)), counter};
    int64_t file_times[4] = {g[0], g[1], g[2], g[3]};
    int32_t out[3];
    ssize_t copied = 0;
    uint64_t hash = 0;
    const char *src_name, *dst_name;
    int sdir = dir_for(&src_dir, src, &src_name);
    int ddir = dir_for(&dst_dir, dst, &dst_name);
    int rc = copy_file(sdir, src_name, ddir, dst_name, stem, stem_len, buf, cap, file_nums, file_times, out, &copied, &hash);
    counter += out[2];
    if (rc == 0) {
      r[0] = 1; r[1] = (double)copied;
      xxh64_hex_into(hex + (size_t)i * 16, hash);
    } else {
      r[0] = 2; r[1] = out[0]; r[2] = out[1]; r[3] = (double)copied;
    }
  }
  if (src_dir.fd >= 0) close(src_dir.fd);
  if (dst_dir.fd >= 0) close(dst_dir.fd);
  return counter - counter0;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_default, NULL},
    {"futimens", NULL, js_futimens, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"syncfs", NULL, js_syncfs, NULL, NULL, NULL, napi_default, NULL},
    {"copyFile", NULL, js_copy_file, NULL, NULL, NULL, napi_default, NULL},
    {"scandirBatchAsync", NULL, js_scandir_batch_async, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  xxh64_define(env, exports);
  walker_define(env, exports);
  copier_define(env, exports);
  namesums_define(env, exports);
  return exports;
}
