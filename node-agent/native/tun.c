// Linux TUN access for the IPOP agent.
//
// Node cannot issue the TUNSETIFF ioctl, and its stream wrappers either refuse a TUN fd or merge
// packets, so this small addon owns the fd. Reads are driven by a libuv poll watcher: on each wakeup it
// drains up to `slots` packets into a caller-provided slab (one fixed-size slot per packet) and calls
// back once with the count, so JS pays one crossing per batch and allocates nothing per packet. The
// slab is borrowed by JS only until the callback returns. Writes are one write() per packet, since a
// TUN fd takes exactly one packet per write.
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  int fd;
  int polling;     // uv_poll is started
  int poll_open;   // uv_poll is initialised and its close callback has not run yet
  int js_gone;     // the JS handle was garbage collected
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref slab_ref;
  napi_ref lens_ref;
  napi_async_context async_context;
  uint8_t *slab;
  int32_t *lens;
  size_t slot_size;
  size_t slots;
} tun_t;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "IPOP_TUN_NAPI", "N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, "IPOP_TUN_SYSCALL", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static tun_t *get_tun(napi_env env, napi_value value) {
  tun_t *tun = NULL;
  if (napi_get_value_external(env, value, (void **)&tun) != napi_ok || tun == NULL) {
    napi_throw_type_error(env, "IPOP_TUN_HANDLE", "expected a TUN handle");
    return NULL;
  }
  return tun;
}

static void release_refs(tun_t *tun) {
  napi_env env = tun->env;
  if (tun->callback) napi_delete_reference(env, tun->callback);
  if (tun->slab_ref) napi_delete_reference(env, tun->slab_ref);
  if (tun->lens_ref) napi_delete_reference(env, tun->lens_ref);
  if (tun->async_context) napi_async_destroy(env, tun->async_context);
  tun->callback = tun->slab_ref = tun->lens_ref = NULL;
  tun->async_context = NULL;
}

// The struct lives until both JS has dropped its handle and libuv has dropped the poll watcher, so
// a write() or close() after close() sees fd == -1 instead of freed memory.
static void on_poll_closed(uv_handle_t *handle) {
  tun_t *tun = (tun_t *)handle->data;
  release_refs(tun);
  tun->poll_open = 0;
  if (tun->js_gone) free(tun);
}

static void on_handle_finalized(napi_env env, void *data, void *hint) {
  tun_t *tun = (tun_t *)data;
  tun->js_gone = 1;
  if (tun->poll_open) return;
  if (tun->fd >= 0) close(tun->fd);
  free(tun);
}

static void deliver(tun_t *tun, int32_t count) {
  napi_env env = tun->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, tun->callback, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv);  // make_callback wants an object as `this`, not undefined
    napi_create_int32(env, count, &arg);
    // make_callback runs microtasks and reports a throwing callback as an uncaught exception.
    napi_make_callback(env, tun->async_context, recv, cb, 1, &arg, &result);
  }
  napi_close_handle_scope(env, scope);
}

static void stop_polling(tun_t *tun) {
  if (tun->polling) {
    uv_poll_stop(&tun->poll);
    tun->polling = 0;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  tun_t *tun = (tun_t *)handle->data;
  if (status < 0) {
    stop_polling(tun);
    deliver(tun, status);
    return;
  }
  size_t count = 0;
  int failure = 0;
  while (count < tun->slots) {
    ssize_t n = read(tun->fd, tun->slab + count * tun->slot_size, tun->slot_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) failure = -errno;
      break;
    }
    tun->lens[count++] = (int32_t)n;
  }
  if (count > 0) deliver(tun, (int32_t)count);
  if (failure != 0 && tun->fd >= 0) {
    stop_polling(tun);
    deliver(tun, failure);
  }
}

// open(name: string): [handle, actualName]
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "open(name) needs a device name string");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len < IFNAMSIZ ? len : IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ioctl TUNSETIFF", err);
  }
  tun_t *tun = calloc(1, sizeof *tun);
  if (tun == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  tun->fd = fd;
  tun->env = env;
  napi_value handle, actual, result;
  CHECK(napi_create_external(env, tun, on_handle_finalized, NULL, &handle));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &actual));
  CHECK(napi_create_array_with_length(env, 2, &result));
  CHECK(napi_set_element(env, result, 0, handle));
  CHECK(napi_set_element(env, result, 1, actual));
  return result;
}

// start(handle, slab: Uint8Array, slotSize: number, lens: Int32Array, onBatch: (count) => void)
static napi_value tun_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "start(handle, slab, slotSize, lens, onBatch)");
    return NULL;
  }
  tun_t *tun = get_tun(env, argv[0]);
  if (tun == NULL) return NULL;
  if (tun->fd < 0 || tun->callback != NULL) {
    napi_throw_error(env, "IPOP_TUN_STATE", "TUN device is closed or already reading");
    return NULL;
  }
  napi_typedarray_type type;
  size_t slab_len, lens_len;
  void *slab, *lens;
  uint32_t slot_size;
  if (napi_get_typedarray_info(env, argv[1], &type, &slab_len, &slab, NULL, NULL) != napi_ok ||
      type != napi_uint8_array ||
      napi_get_value_uint32(env, argv[2], &slot_size) != napi_ok || slot_size == 0 ||
      napi_get_typedarray_info(env, argv[3], &type, &lens_len, &lens, NULL, NULL) != napi_ok ||
      type != napi_int32_array) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "start needs a Uint8Array slab, a slot size and an Int32Array");
    return NULL;
  }
  size_t slots = slab_len / slot_size;
  if (slots > lens_len) slots = lens_len;
  if (slots == 0) {
    napi_throw_range_error(env, "IPOP_TUN_ARGS", "slab holds no slot");
    return NULL;
  }
  tun->slab = slab;
  tun->lens = lens;
  tun->slot_size = slot_size;
  tun->slots = slots;
  CHECK(napi_create_reference(env, argv[1], 1, &tun->slab_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &tun->lens_ref));
  CHECK(napi_create_reference(env, argv[4], 1, &tun->callback));
  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "IpopTunRead", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &tun->async_context));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &tun->poll, tun->fd);
  if (rc < 0) return throw_errno(env, "uv_poll_init", -rc);
  tun->poll.data = tun;
  tun->poll_open = 1;
  rc = uv_poll_start(&tun->poll, UV_READABLE, on_readable);
  if (rc < 0) return throw_errno(env, "uv_poll_start", -rc);
  tun->polling = 1;
  return NULL;
}

// write(handle, packet: Uint8Array): bytes written, or -errno (EAGAIN when the queue is full)
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "write(handle, packet)");
    return NULL;
  }
  tun_t *tun = get_tun(env, argv[0]);
  if (tun == NULL) return NULL;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "write needs a Uint8Array");
    return NULL;
  }
  ssize_t n;
  if (tun->fd < 0) {
    n = -EBADF;
  } else {
    do n = write(tun->fd, data, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) n = -errno;
  }
  napi_value result;
  CHECK(napi_create_int32(env, (int32_t)n, &result));
  return result;
}

// close(handle): stops reading and closes the fd, which removes a non-persistent device.
static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return NULL;
  tun_t *tun = get_tun(env, argv[0]);
  if (tun == NULL || tun->fd < 0) return NULL;
  int fd = tun->fd;
  tun->fd = -1;
  if (tun->poll_open) {
    stop_polling(tun);
    uv_close((uv_handle_t *)&tun->poll, on_poll_closed);
  }
  close(fd);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tun_open, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, tun_start, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, tun_write, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
