/* Helpers shared by the addon's C files (defined in hlfs.c); the int ones return -1 after throwing. */
#ifndef HLFS_ARGS_H
#define HLFS_ARGS_H
#include <stdint.h>
#include <node_api.h>

/* Queues a job on libuv's pool and returns the promise its complete callback settles (native/hlfs.c). */
napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete,
                     void *data, napi_deferred *deferred, napi_async_work *work);
/* Reads exactly n arguments into argv. */
int args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *name);
/* The pointer an External holds (a walker, a copier); NULL after throwing "not a <what>". */
void *external_arg(napi_env env, napi_value v, const char *what);
/* A Buffer argument's bytes (not copied). */
int buffer_arg(napi_env env, napi_value v, const char *what, void **data, size_t *len);
/* Throws an Error with Node's code, errno and syscall; returns NULL. */
napi_value throw_errno(napi_env env, int err, const char *syscall);
/* A Buffer path as a malloc'ed NUL-terminated string (NULL after throwing: not a Buffer, or a NUL in it). */
char *path_arg(napi_env env, napi_value v);
/* A typed array of type `want` with at least `min` elements. */
int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data);
/* 16 lowercase hex digits of an XXH64 into out, as xxhsum prints it (native/xxh64.c). */
void xxh64_hex_into(char *out, uint64_t h);
/* Adds the XXH64 functions, hashFile and hashFilesAsync (native/xxh64.c). */
void xxh64_define(napi_env env, napi_value exports);
/* Adds walkOpen, walkTake, walkWait, walkSkip and walkClose (native/walker.c). */
void walker_define(napi_env env, napi_value exports);

/* copyFile over a packed batch (native/hlfs.c), for the copier's threads. */
double copy_batch_run(const void *packed, size_t packed_len, uint32_t count, const char *stem, size_t stem_len,
                      double counter0, char *buf, size_t cap, double *res, char *hex, const volatile int *stop);
/* Adds copierOpen, copierSubmit, copierStop and copierClose (native/copier.c). */
void copier_define(napi_env env, napi_value exports);

/* Adds treeNameSumsAsync (native/namesums.c). */
void namesums_define(napi_env env, napi_value exports);

#endif
