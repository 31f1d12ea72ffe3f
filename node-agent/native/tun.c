// Linux TUN access for the IPOP agent.
//
// Node cannot issue the TUNSETIFF ioctl, and its stream wrappers either refuse a TUN fd or merge
// packets, so this small addon owns the fd. Reads are driven by a libuv poll watcher: on each wakeup it
// drains up to `slots` packets into a caller-provided slab (one fixed-size slot per packet) and calls
// back once with the count, so JS pays one crossing per batch and allocates nothing per packet. The
// slab is borrowed by JS only until the callback returns. Writes come in batches too (writeBatch):
// one crossing, then one write() per packet or per coalesced super-packet.
//
// With offloads (open(name, true)) the device carries a virtio-net header and TSO/USO: see vnet.h
// for how super-packets are cut on read and built on write.
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

#include "tun_open.h"
#include "vnet.h"

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
  int vnet;            // packets carry a virtio-net header
  int coalesce_off;    // the kernel refused a super-packet: write segments as they are
  uint8_t *read_buf;   // one packet as read, header included (vnet only)
  uint8_t *write_buf;  // one super-packet being written, header included (vnet only)
  vnet_stats_t stats;
} tun_t;

#define VNET_BUF_BYTES (VNET_HDR_LEN + VNET_MAX_PACKET)

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

static void free_tun(tun_t *tun) {
  free(tun->read_buf);
  free(tun->write_buf);
  free(tun);
}

// The struct lives until both JS has dropped its handle and libuv has dropped the poll watcher, so
// a write() or close() after close() sees fd == -1 instead of freed memory.
static void on_poll_closed(uv_handle_t *handle) {
  tun_t *tun = (tun_t *)handle->data;
  release_refs(tun);
  tun->poll_open = 0;
  if (tun->js_gone) free_tun(tun);
}

static void on_handle_finalized(napi_env env, void *data, void *hint) {
  tun_t *tun = (tun_t *)data;
  tun->js_gone = 1;
  if (tun->poll_open) return;
  if (tun->fd >= 0) close(tun->fd);
  free_tun(tun);
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

// Reads plain packets straight into the slab's slots.
static void read_plain(tun_t *tun, size_t *count, int *failure) {
  while (*count < tun->slots) {
    ssize_t n = read(tun->fd, tun->slab + *count * tun->slot_size, tun->slot_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *failure = -errno;
      return;
    }
    tun->lens[(*count)++] = (int32_t)n;
  }
}

// Reads packets with their virtio-net header into read_buf and cuts each into slots (vnet_split). A
// super-packet that does not fit the slots left hands the batch to JS first, so one wakeup still
// reads at most `slots` packets from the kernel.
static void read_vnet(tun_t *tun, size_t *count, int *failure) {
  for (size_t reads = 0; reads < tun->slots;) {
    ssize_t n = read(tun->fd, tun->read_buf, VNET_BUF_BYTES);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *failure = -errno;
      return;
    }
    reads++;
    if ((size_t)n <= VNET_HDR_LEN) {
      tun->stats.read_drops++;
      continue;
    }
    struct virtio_net_hdr hdr;
    memcpy(&hdr, tun->read_buf, VNET_HDR_LEN);
    uint8_t *pkt = tun->read_buf + VNET_HDR_LEN;
    size_t len = (size_t)n - VNET_HDR_LEN;
    int got = vnet_split(&hdr, pkt, len, tun->slab + *count * tun->slot_size, tun->slot_size, tun->slots - *count,
                         tun->lens + *count, &tun->stats);
    if (got == SPLIT_NEED_ROOM && *count > 0) {
      deliver(tun, (int32_t)*count);
      *count = 0;
      if (tun->fd < 0) return;  // closed from the callback
      got = vnet_split(&hdr, pkt, len, tun->slab, tun->slot_size, tun->slots, tun->lens, &tun->stats);
    }
    if (got < 0) {
      tun->stats.read_drops++;
      continue;
    }
    *count += (size_t)got;
    if (*count == tun->slots) return;
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
  if (tun->vnet) read_vnet(tun, &count, &failure);
  else read_plain(tun, &count, &failure);
  if (count > 0 && tun->fd >= 0) deliver(tun, (int32_t)count);
  if (failure != 0 && tun->fd >= 0) {
    stop_polling(tun);
    deliver(tun, failure);
  }
}

// open(name: string, offload: boolean): [handle, actualName, offloadBits]
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = {0};
  size_t len = 0;
  bool want_offload = false;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok ||
      napi_get_value_bool(env, argv[1], &want_offload) != napi_ok) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "open(name, offload) needs a device name and a boolean");
    return NULL;
  }
  struct ifreq ifr;
  int err = 0, offloads = 0;
  unsigned int features = 0;
  int fd = -1;
  if (want_offload) {
    // Ask first: a device that exists without the header (another owner's) refuses it with EINVAL.
    int probe = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (probe >= 0) {
      if (ioctl(probe, TUNGETFEATURES, &features) < 0) features = 0;
      close(probe);
    }
    if (features & IFF_VNET_HDR) fd = open_device(name, len, 1, &ifr, &err);
    if (fd >= 0) {
      offloads = enable_offloads(fd);
      if (offloads == 0) {
        close(fd);
        fd = -1;
      }
    }
  }
  if (fd < 0) fd = open_device(name, len, 0, &ifr, &err);
  if (fd < 0) return throw_errno(env, "ioctl TUNSETIFF", err);
  tun_t *tun = calloc(1, sizeof *tun);
  if (tun != NULL && offloads != 0) {
    tun->read_buf = malloc(VNET_BUF_BYTES);
    tun->write_buf = malloc(VNET_BUF_BYTES);
    if (tun->read_buf == NULL || tun->write_buf == NULL) {
      free_tun(tun);
      tun = NULL;
    }
  }
  if (tun == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  tun->fd = fd;
  tun->env = env;
  tun->vnet = offloads != 0;
  napi_value handle, actual, bits, result;
  CHECK(napi_create_external(env, tun, on_handle_finalized, NULL, &handle));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &actual));
  CHECK(napi_create_int32(env, offloads, &bits));
  CHECK(napi_create_array_with_length(env, 3, &result));
  CHECK(napi_set_element(env, result, 0, handle));
  CHECK(napi_set_element(env, result, 1, actual));
  CHECK(napi_set_element(env, result, 2, bits));
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

// writeBatch(handle, staging: Uint8Array, lens: Int32Array, count): packets the kernel refused, or
// -EBADF when closed. `staging` holds the packets back to back, each after VNET_HDR_LEN spare bytes.
static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "writeBatch(handle, staging, lens, count)");
    return NULL;
  }
  tun_t *tun = get_tun(env, argv[0]);
  if (tun == NULL) return NULL;
  napi_typedarray_type type;
  size_t staging_len, lens_len;
  void *staging, *lens;
  uint32_t count;
  if (napi_get_typedarray_info(env, argv[1], &type, &staging_len, &staging, NULL, NULL) != napi_ok ||
      type != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[2], &type, &lens_len, &lens, NULL, NULL) != napi_ok ||
      type != napi_int32_array || napi_get_value_uint32(env, argv[3], &count) != napi_ok || count > lens_len ||
      count > VNET_MAX_BATCH) {
    napi_throw_type_error(env, "IPOP_TUN_ARGS", "writeBatch needs a Uint8Array, an Int32Array and a count <= 256");
    return NULL;
  }
  // The lengths must tile the staging buffer's front, or the writer would read past it.
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    int32_t len = ((int32_t *)lens)[i];
    if (len <= 0 || (size_t)len > VNET_MAX_PACKET || at + VNET_HDR_LEN + (size_t)len > staging_len) {
      napi_throw_range_error(env, "IPOP_TUN_ARGS", "writeBatch: lengths do not fit the staging buffer");
      return NULL;
    }
    at += VNET_HDR_LEN + (size_t)len;
  }
  int32_t refused = tun->fd < 0 ? -EBADF
                                : (int32_t)vnet_write_batch(tun->fd, tun->vnet, &tun->coalesce_off, staging, lens,
                                                            count, tun->write_buf, &tun->stats);
  napi_value result;
  CHECK(napi_create_int32(env, refused, &result));
  return result;
}

static napi_status set_count(napi_env env, napi_value object, const char *name, uint64_t value) {
  napi_value number;
  napi_status status = napi_create_double(env, (double)value, &number);
  return status == napi_ok ? napi_set_named_property(env, object, name, number) : status;
}

// stats(handle): the offload counters (vnet.h).
static napi_value tun_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return NULL;
  tun_t *tun = get_tun(env, argv[0]);
  if (tun == NULL) return NULL;
  const vnet_stats_t *s = &tun->stats;
  napi_value result;
  CHECK(napi_create_object(env, &result));
  CHECK(set_count(env, result, "gsoReads", s->gso_reads));
  CHECK(set_count(env, result, "gsoSegments", s->gso_segments));
  CHECK(set_count(env, result, "checksumsCompleted", s->csum_completed));
  CHECK(set_count(env, result, "readDrops", s->read_drops));
  CHECK(set_count(env, result, "coalescedWrites", s->coalesced_writes));
  CHECK(set_count(env, result, "coalescedSegments", s->coalesced_segments));
  CHECK(set_count(env, result, "writeErrors", s->write_errors));
  CHECK(set_count(env, result, "gsoWriteRejected", s->gso_write_rejected));
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
      {"writeBatch", NULL, tun_write_batch, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, tun_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
