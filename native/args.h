/* Argument helpers shared by the addon's C files (defined in hlfs.c). Each returns -1 after throwing. */
#ifndef HLFS_ARGS_H
#define HLFS_ARGS_H
#include <node_api.h>

/* Reads exactly n arguments into argv. */
int args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *name);
/* A Buffer argument's bytes (not copied). */
int buffer_arg(napi_env env, napi_value v, const char *what, void **data, size_t *len);
/* Adds xxh64Hex, xxh64Reset, xxh64Update, xxh64DigestHex and xxh64StateBytes (native/xxh64.c). */
void xxh64_define(napi_env env, napi_value exports);

#endif
