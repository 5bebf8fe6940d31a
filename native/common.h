// Shared declarations of the thespis addon: each job's registration function,
// the hooks fork.cc and reap.cc use to talk to each other, and small helpers.
#pragma once

#include <napi.h>
#include <sys/types.h>
#include <uv.h>

#include <initializer_list>
#include <string>

namespace thespis {

void InitFraming(Napi::Env env, Napi::Object exports);
void InitFdPass(Napi::Env env, Napi::Object exports);
void InitFdWatch(Napi::Env env, Napi::Object exports);
void InitFork(Napi::Env env, Napi::Object exports);
void InitReap(Napi::Env env, Napi::Object exports);

// reap.cc. StartReaper must run before fork() so that a child dying at once
// still finds a SIGCHLD watcher in place; TrackChild runs in the parent right
// after fork() returns, before any JS (and so before the watcher's callback).
bool StartReaper(Napi::Env env);
void TrackChild(pid_t pid);
// In a freshly forked child: the parent's children are not ours to reap.
void ForgetChildrenAfterFork(Napi::Env env);

// A JS Error for a failed system call, shaped like Node's own: message
// "<syscall> <CODE>: <text>", `code` ("EAGAIN"), `errno` (negative), `syscall`.
inline Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const int uverr = -err;  // on Unix libuv error codes are negated errno values
  std::string message = std::string(syscall) + " " + uv_err_name(uverr) + ": " + uv_strerror(uverr);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, uv_err_name(uverr)));
  error.Set("errno", Napi::Number::New(env, uverr));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

inline uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return nullptr;
  return loop;
}

// Node's main thread runs the default loop; worker threads run their own.
inline bool OnMainThread(Napi::Env env) { return LoopOf(env) == uv_default_loop(); }

// Calls JS from a libuv callback (outside any JS frame); the caller holds a
// Napi::HandleScope that also covers `args`, and `recv` must be an object
// (N-API converts it with ToObject). MakeCallback drains the microtask queue
// afterwards, as Node does for its own I/O callbacks. A JS exception goes to
// 'uncaughtException' rather than staying pending in the env, where it would
// surface at some unrelated later call. Raw N-API on purpose: node-addon-api
// turns every failure into a throw, and throwing is fatal while an env is
// being torn down (a worker exiting), which is exactly when JS can no longer
// be called. Returns false in that case: the caller should stop calling.
inline bool CallFromLoop(Napi::Env env, napi_value recv, const Napi::FunctionReference& fn,
                         std::initializer_list<napi_value> args) {
  napi_value result;
  napi_status status = napi_make_callback(env, nullptr, recv, fn.Value(), args.size(), args.begin(), &result);
  if (status == napi_ok) return true;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    return true;
  }
  return false;
}

}  // namespace thespis
