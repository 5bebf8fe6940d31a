// FdWatcher: readiness of a raw fd on the thread's event loop (uv_poll_t).
//
// recvFds/sendFds work on sockets that no libuv stream reads from (a stream
// would consume the bytes and their descriptors itself); this is how JS learns
// when such a socket is readable or writable without spinning. Never watch an
// fd that a net.Socket also owns: epoll accepts one registration per fd per
// loop, and the two would fight over it.
#include "common.h"

namespace thespis {
namespace {

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdWatcher",
                       {
                           InstanceMethod<&FdWatcher::Start>("start"),
                           InstanceMethod<&FdWatcher::Stop>("stop"),
                           InstanceMethod<&FdWatcher::Close>("close"),
                           InstanceMethod<&FdWatcher::DoRef>("ref"),
                           InstanceMethod<&FdWatcher::DoUnref>("unref"),
                           StaticValue("READABLE", Napi::Number::New(env, UV_READABLE)),
                           StaticValue("WRITABLE", Napi::Number::New(env, UV_WRITABLE)),
                           StaticValue("DISCONNECT", Napi::Number::New(env, UV_DISCONNECT)),
                       });
  }

  // new FdWatcher(fd, callback(status, events)): status is 0 or a negative
  // libuv error code; events is a mask of READABLE | WRITABLE | DISCONNECT.
  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new FdWatcher(fd: number, callback: (status, events) => void)")
          .ThrowAsJavaScriptException();
      return;
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    poll_ = new uv_poll_t;
    int r = uv_poll_init(LoopOf(env), poll_, fd);
    if (r != 0) {
      delete poll_;
      poll_ = nullptr;
      ErrnoError(env, -r, "uv_poll_init").ThrowAsJavaScriptException();
      return;
    }
    poll_->data = this;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
  }

  ~FdWatcher() override {
    if (poll_ == nullptr) return;
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    CloseHandle();
  }

 private:
  // start(events): (re)arm for READABLE and/or WRITABLE. While armed the
  // watcher keeps itself alive, so dropping the JS object does not stop it.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!RequireOpen(env)) return Napi::Value();
    int events = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : UV_READABLE;
    int r = uv_poll_start(poll_, events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT), OnPoll);
    if (r != 0) {
      ErrnoError(env, -r, "uv_poll_start").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    if (!armed_) {
      armed_ = true;
      Ref();
    }
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    Disarm();
    return info.Env().Undefined();
  }

  // close(): stop for good. The fd itself is not closed; it belongs to the caller.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      CloseHandle();
    }
    callback_.Reset();
    Disarm();
    return info.Env().Undefined();
  }

  Napi::Value DoRef(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value DoUnref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  bool RequireOpen(Napi::Env env) {
    if (poll_ != nullptr) return true;
    Napi::Error::New(env, "FdWatcher is closed").ThrowAsJavaScriptException();
    return false;
  }

  void Disarm() {
    if (!armed_) return;
    armed_ = false;
    Unref();
  }

  void CloseHandle() {
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    FdWatcher* self = static_cast<FdWatcher*>(handle->data);
    if (self->callback_.IsEmpty()) return;
    Napi::Env env = self->env_;
    Napi::HandleScope scope(env);
    if (!CallFromLoop(env, self->Value(), self->callback_,
                      {Napi::Number::New(env, status), Napi::Number::New(env, events)}) &&
        self->poll_ != nullptr) {
      uv_poll_stop(self->poll_);  // JS is gone for good (env teardown)
    }
  }

  // The env (a worker thread, or the process) is going away while still
  // armed: close the handle so the loop can be closed cleanly. JS references
  // are the env's to drop.
  static void OnEnvCleanup(void* arg) {
    FdWatcher* self = static_cast<FdWatcher*>(arg);
    if (self->poll_ != nullptr) self->CloseHandle();
  }

  napi_env env_;
  uv_poll_t* poll_ = nullptr;
  bool armed_ = false;
  Napi::FunctionReference callback_;
};

}  // namespace

void InitFdWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("FdWatcher", FdWatcher::Define(env));
}

}  // namespace thespis
