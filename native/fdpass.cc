// Passing file descriptors over Unix sockets (SCM_RIGHTS).
//
// The sockets are expected to be non-blocking (libuv makes every fd it owns
// so, and socketPair() creates them so): "would block" is an ordinary answer
// here, returned as -1 / null, never thrown.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace thespis {
namespace {

// The kernel refuses more than SCM_MAX_FD (253) descriptors in one message.
constexpr uint32_t kMaxFdsPerMessage = 253;
// sendmsg takes at most IOV_MAX (1024 on Linux) buffers.
constexpr uint32_t kMaxIovecs = 1024;
// Bounds the per-thread receive scratch area, which is kept between calls.
constexpr double kMaxBytesPerCall = 16 * 1024 * 1024;

bool IsWouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

bool GetFd(const Napi::Value& value, int* fd) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int>(d))) return false;
  *fd = static_cast<int>(d);
  return true;
}

// socketPair(): [number, number]. A connected AF_UNIX stream pair, both ends
// non-blocking and close-on-exec (a child that should inherit one end gets it
// through spawn's stdio array, which dup2()s it and so clears close-on-exec).
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    ErrnoError(env, errno, "socketpair").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(uint32_t(0), Napi::Number::New(env, fds[0]));
  pair.Set(uint32_t(1), Napi::Number::New(env, fds[1]));
  return pair;
}

// sendFds(socketFd, data, fds): number of bytes sent, or -1 if the socket
// would block. `data` is a Uint8Array, or an array of them sent in order by
// one sendmsg (an iovec each: a large record travels without being copied
// into one buffer first). The descriptors ride with the first byte; after a
// partial send the caller sends the rest without them. Sending descriptors
// needs at least one byte of data on a stream socket.
Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock;
  if (info.Length() < 3 || !GetFd(info[0], &sock) || !(info[1].IsTypedArray() || info[1].IsArray()) ||
      !info[2].IsArray()) {
    Napi::TypeError::New(env, "sendFds(socketFd: number, data: Uint8Array | Uint8Array[], fds: number[])")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  std::vector<iovec> iovs;
  size_t total = 0;
  auto add = [&](const Napi::Value& value) -> bool {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
    Napi::Uint8Array data = value.As<Napi::Uint8Array>();
    if (data.ByteLength() == 0) return true;
    iovs.push_back(iovec{data.Data(), data.ByteLength()});
    total += data.ByteLength();
    return true;
  };
  if (info[1].IsArray()) {
    Napi::Array parts = info[1].As<Napi::Array>();
    const uint32_t n = parts.Length();
    if (n > kMaxIovecs) {
      Napi::RangeError::New(env, "sendFds: at most 1024 buffers per call").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    iovs.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
      if (!add(parts.Get(i))) {
        Napi::TypeError::New(env, "sendFds: data[" + std::to_string(i) + "] is not a Uint8Array")
            .ThrowAsJavaScriptException();
        return Napi::Value();
      }
    }
  } else if (!add(info[1])) {
    Napi::TypeError::New(env, "sendFds: data must be a Uint8Array").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Array list = info[2].As<Napi::Array>();
  const uint32_t count = list.Length();
  if (count > kMaxFdsPerMessage) {
    Napi::RangeError::New(env, "sendFds: at most 253 descriptors per message").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (count > 0 && total == 0) {
    Napi::RangeError::New(env, "sendFds: descriptors need at least one byte of data to travel with")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (total == 0) return Napi::Number::New(env, 0);
  std::vector<int> fds(count);
  for (uint32_t i = 0; i < count; i++) {
    if (!GetFd(list.Get(i), &fds[i])) {
      Napi::TypeError::New(env, "sendFds: fds[" + std::to_string(i) + "] is not a file descriptor")
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }

  msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = iovs.data();
  msg.msg_iovlen = iovs.size();
  std::vector<char> control;
  if (count > 0) {
    control.assign(CMSG_SPACE(sizeof(int) * count), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * count);
  }

  ssize_t sent;
  do {
    sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (IsWouldBlock(errno)) return Napi::Number::New(env, -1);
    ErrnoError(env, errno, "sendmsg").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Napi::Number::New(env, double(sent));
}

// Moves the descriptors of a received message into `received`, closing those
// past `max_fds`; true when some were closed here or dropped by the kernel.
bool TakeFds(msghdr& msg, size_t max_fds, std::vector<int>& received) {
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      received.push_back(fd);
    }
  }
  bool truncated = (msg.msg_flags & MSG_CTRUNC) != 0 || received.size() > max_fds;
  for (size_t i = max_fds; i < received.size(); i++) close(received[i]);
  if (received.size() > max_fds) received.resize(max_fds);
  return truncated;
}

// One recvmsg of at most `iov.iov_len` bytes into `iov`; the byte count, or
// -1 when the socket would block, or -2 with a JS exception pending.
ssize_t Receive(Napi::Env env, int sock, iovec iov, size_t max_fds, std::vector<int>& received, bool* truncated) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t got;
  do {
    got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (IsWouldBlock(errno)) return -1;
    ErrnoError(env, errno, "recvmsg").ThrowAsJavaScriptException();
    return -2;
  }
  *truncated = TakeFds(msg, max_fds, received);
  return got;
}

Napi::Array FdArray(Napi::Env env, const std::vector<int>& fds) {
  Napi::Array array = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) array.Set(uint32_t(i), Napi::Number::New(env, fds[i]));
  return array;
}

// recvFds(socketFd, maxBytes, maxFds): { data, fds, truncated } or null if
// the socket would block. data.length === 0 with no fds is end of stream.
// Received descriptors are close-on-exec. Room is made for as many as the
// kernel may carry, so that descriptors beyond maxFds are closed here instead
// of being silently dropped by the kernel; `truncated` says some were closed
// (or, rarely, that the kernel itself had to drop some).
Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock;
  if (info.Length() < 3 || !GetFd(info[0], &sock) || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "recvFds(socketFd: number, maxBytes: number, maxFds: number)")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  double max_bytes_d = info[1].As<Napi::Number>().DoubleValue();
  double max_fds_d = info[2].As<Napi::Number>().DoubleValue();
  if (!(max_bytes_d >= 1 && max_bytes_d <= kMaxBytesPerCall) || !(max_fds_d >= 0)) {
    Napi::RangeError::New(env, "recvFds: maxBytes must be 1..16777216 and maxFds >= 0").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  const size_t max_bytes = size_t(max_bytes_d);
  const size_t max_fds = max_fds_d > kMaxFdsPerMessage ? kMaxFdsPerMessage : size_t(max_fds_d);

  // Receive into a per-thread scratch area and copy out exactly what came, so
  // a small message does not pin a maxBytes-sized buffer.
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < max_bytes) scratch.resize(max_bytes);
  std::vector<int> received;
  bool truncated = false;
  ssize_t got = Receive(env, sock, iovec{scratch.data(), max_bytes}, max_fds, received, &truncated);
  if (got == -1) return env.Null();
  if (got < 0) return Napi::Value();

  Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::Copy(env, scratch.data(), size_t(got));
  if (env.IsExceptionPending()) {
    for (int fd : received) close(fd);  // nobody would ever own them
    return Napi::Value();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", data);
  result.Set("fds", FdArray(env, received));
  result.Set("truncated", Napi::Boolean::New(env, truncated));
  return result;
}

// recvFdsInto(socketFd, target, maxFds): { bytes, fds, truncated }, or null
// if the socket would block. Like recvFds, but the bytes land in `target` (a
// Uint8Array, filled from its start): a large frame is read where it will be
// used, with no copy out of a scratch area. bytes === 0 with no fds is end of
// stream.
Napi::Value RecvFdsInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock;
  if (info.Length() < 3 || !GetFd(info[0], &sock) || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "recvFdsInto(socketFd: number, target: Uint8Array, maxFds: number)")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Uint8Array target = info[1].As<Napi::Uint8Array>();
  double max_fds_d = info[2].As<Napi::Number>().DoubleValue();
  if (target.ByteLength() == 0 || !(max_fds_d >= 0)) {
    Napi::RangeError::New(env, "recvFdsInto: target must not be empty and maxFds must be >= 0")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  const size_t max_fds = max_fds_d > kMaxFdsPerMessage ? kMaxFdsPerMessage : size_t(max_fds_d);
  std::vector<int> received;
  bool truncated = false;
  ssize_t got = Receive(env, sock, iovec{target.Data(), target.ByteLength()}, max_fds, received, &truncated);
  if (got == -1) return env.Null();
  if (got < 0) return Napi::Value();
  Napi::Object result = Napi::Object::New(env);
  result.Set("bytes", Napi::Number::New(env, double(got)));
  result.Set("fds", FdArray(env, received));
  result.Set("truncated", Napi::Boolean::New(env, truncated));
  return result;
}

// dupFd(fd): a new close-on-exec descriptor for the same open file. A socket
// handed to another thread of this process needs one of its own: the sender's
// net.Socket closes the original when it is destroyed.
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (info.Length() < 1 || !GetFd(info[0], &fd)) {
    Napi::TypeError::New(env, "dupFd(fd: number)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    ErrnoError(env, errno, "fcntl(F_DUPFD_CLOEXEC)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Napi::Number::New(env, copy);
}

// shutdownWrite(fd): no more bytes will be sent (the peer reads end of
// stream), while what the peer still sends can be read.
Napi::Value ShutdownWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (info.Length() < 1 || !GetFd(info[0], &fd)) {
    Napi::TypeError::New(env, "shutdownWrite(fd: number)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN) {
    ErrnoError(env, errno, "shutdown").ThrowAsJavaScriptException();
  }
  return Napi::Value();
}

// setSendBuffer(fd, bytes): the socket's send buffer (SO_SNDBUF) before the
// call, in bytes as the kernel counts them; then asks for `bytes` (0: only
// reads it). Linux doubles what is asked, for its bookkeeping, and caps it at
// twice net.core.wmem_max without saying so: asking for half of a value read
// earlier restores that value.
Napi::Value SetSendBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (info.Length() < 2 || !GetFd(info[0], &fd) || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "setSendBuffer(fd: number, bytes: number)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  const double asked = info[1].As<Napi::Number>().DoubleValue();
  if (!(asked >= 0 && asked <= 1073741824.0)) {
    Napi::RangeError::New(env, "setSendBuffer: bytes must be between 0 and 1 GiB").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  int before = 0;
  socklen_t length = sizeof before;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &before, &length) != 0) {
    ErrnoError(env, errno, "getsockopt").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  const int bytes = static_cast<int>(asked);
  if (bytes > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) {
    ErrnoError(env, errno, "setsockopt").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Napi::Number::New(env, before);
}

}  // namespace

void InitFdPass(Napi::Env env, Napi::Object exports) {
  exports.Set("socketPair", Napi::Function::New<SocketPair>(env, "socketPair"));
  exports.Set("sendFds", Napi::Function::New<SendFds>(env, "sendFds"));
  exports.Set("recvFds", Napi::Function::New<RecvFds>(env, "recvFds"));
  exports.Set("recvFdsInto", Napi::Function::New<RecvFdsInto>(env, "recvFdsInto"));
  exports.Set("dupFd", Napi::Function::New<DupFd>(env, "dupFd"));
  exports.Set("shutdownWrite", Napi::Function::New<ShutdownWrite>(env, "shutdownWrite"));
  exports.Set("setSendBuffer", Napi::Function::New<SetSendBuffer>(env, "setSendBuffer"));
}

}  // namespace thespis
