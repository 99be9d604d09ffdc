/*
 * hlfs: the few system calls Node's fs cannot make faithfully.
 *
 * - utimensat/futimens with nanosecond BigInt times: fs.utimes goes through a double and keeps only
 *   microseconds (and mangles times before 1970), while rsync -a keeps every nanosecond.
 * - mknod for fifos, sockets and device nodes: Node has no mknod at all.
 *
 * Paths are Buffers (names are bytes); errors are thrown as Error objects carrying Node's usual
 * `code` (e.g. "ENOENT"), `errno` and `syscall`, so callers treat them like fs errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <node_api.h>
#include <uv.h>

#define NS_PER_S 1000000000LL

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
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
static char *path_arg(napi_env env, napi_value v) {
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

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_default, NULL},
    {"futimens", NULL, js_futimens, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
