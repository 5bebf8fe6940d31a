// fork() for a zygote Node process, and the ways out of a forked child.
//
// Fork safety, in order of what bites first:
// - V8 maps parts of its heap MADV_DONTFORK; a plain fork's child faults on
//   its first touch of them. Before forking we walk /proc/self/maps and mark
//   every mapping MADV_DOFORK (some refuse, e.g. [vvar]; that is harmless).
// - Only the calling thread survives in the child. The zygote must be started
//   with --single-threaded so V8 never hands GC or compile work to platform
//   threads the child lacks, must not use worker_threads, and should fork
//   while its loop is idle (from a setImmediate callback, not from inside an
//   I/O callback, so no events of the current poll are still queued for fds
//   the child shares with the parent). libuv's own pthread_atfork handlers
//   reset its thread pool and signal plumbing, which is why we call libc
//   fork() and not the raw syscall.
// - The child must call uv_loop_fork() before the loop runs again: it gives
//   the child its own epoll set and signal pipe, else parent and child would
//   share one and steal each other's events.
// - The child inherits every handle the parent had open (its control socket,
//   stdin, servers). It must close the ones it does not own first thing, or
//   it will read the parent's input. It inherits the parent's pending JS
//   work as well (immediates, timers, queued callbacks): code that must only
//   run in the parent has to check which side it is on.
// - Math.random's state is copied too: every child draws the same sequence
//   unless the caller reseeds (crypto.* is unaffected: OpenSSL notices the
//   new pid).
// - Node's normal exit path (platform teardown) joins threads that do not
//   exist in the child and crashes. Leave with exitNow(); as a guard, the
//   child also gets a last process 'exit' listener that calls _exit() with the
//   exit code, so process.exit(), an uncaught exception or a loop running dry
//   end the child cleanly too (after the other 'exit' listeners have run).
// - process.pid and process.ppid are values Node caches at startup; the child
//   gets them corrected here.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.h"

namespace thespis {
namespace {

// Marks every current mapping MADV_DOFORK; returns how many accepted it.
int MarkMappingsForkable() {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::string maps;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    maps.append(buf, size_t(n));
  }
  close(fd);

  int marked = 0;
  const char* p = maps.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    unsigned long long start = std::strtoull(p, &end, 16);
    if (end != nullptr && *end == '-') {
      unsigned long long stop = std::strtoull(end + 1, &end, 16);
      if (stop > start && madvise(reinterpret_cast<void*>(start), size_t(stop - start), MADV_DOFORK) == 0) {
        marked++;
      }
    }
    const char* nl = std::strchr(p, '\n');
    if (nl == nullptr) break;
    p = nl + 1;
  }
  return marked;
}

// In the child nothing may throw back into JS: the caller would take the
// exception for a failed fork in the parent and carry on as the parent.
[[noreturn]] void ChildFail(const char* what, int err) {
  char line[256];
  int n = std::snprintf(line, sizeof(line), "thespis: forked child %d: %s failed: %s\n", int(getpid()), what,
                        std::strerror(err));
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, line, size_t(n));
    (void)ignored;
  }
  _exit(70);
}

void CorrectProcessIds(Napi::Env env, pid_t parent) {
  Napi::Value process = env.Global().Get("process");
  if (!process.IsObject()) return;
  napi_property_attributes attrs =
      static_cast<napi_property_attributes>(napi_writable | napi_enumerable | napi_configurable);
  process.As<Napi::Object>().DefineProperties({
      Napi::PropertyDescriptor::Value("pid", Napi::Number::New(env, getpid()), attrs),
      Napi::PropertyDescriptor::Value("ppid", Napi::Number::New(env, parent), attrs),
  });
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
}

napi_ref exit_guard = nullptr;  // the child's 'exit' listener, to find its place

int ExitCodeOf(Napi::Env env, Napi::Object process, int fallback) {
  Napi::Value code = process.Get("exitCode");
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
  return code.IsNumber() ? code.As<Napi::Number>().Int32Value() : fallback;
}

// The child's 'exit' listener. It was added at fork time, so listeners added
// later have not run yet: run them here, in order, then _exit. (Returning
// would let Node go on to its teardown, which crashes in a forked child.)
Napi::Value ExitFromExitEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  Napi::Value process_value = env.Global().Get("process");
  if (process_value.IsObject() && exit_guard != nullptr) {
    Napi::Object process = process_value.As<Napi::Object>();
    napi_value self_value;
    napi_get_reference_value(env, exit_guard, &self_value);
    Napi::Value self(env, self_value);
    Napi::Value listeners_fn = process.Get("listeners");
    Napi::Value listeners =
        listeners_fn.IsFunction()
            ? listeners_fn.As<Napi::Function>().Call(process, {Napi::String::New(env, "exit")})
            : Napi::Value();
    if (!listeners.IsEmpty() && listeners.IsArray()) {
      Napi::Array list = listeners.As<Napi::Array>();
      bool after_self = false;
      for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Value listener = list.Get(i);
        if (!after_self) {
          after_self = listener.StrictEquals(self);
          continue;
        }
        if (!listener.IsFunction()) continue;
        listener.As<Napi::Function>().Call(process, {Napi::Number::New(env, code)});
        if (env.IsExceptionPending()) env.GetAndClearPendingException();
      }
    }
    if (env.IsExceptionPending()) env.GetAndClearPendingException();
    code = ExitCodeOf(env, process, code);
  }
  std::fflush(nullptr);
  _exit(code & 0xff);
}

// process.exit() called while already exiting skips the 'exit' event and goes
// straight to process.reallyExit: make that safe too.
Napi::Value ReallyExitForkedChild(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  std::fflush(nullptr);
  _exit(code & 0xff);
}

// The exit guard leaves before Node would print a fatal exception, so the
// child prints it here, from 'uncaughtExceptionMonitor', when it is fatal:
// no 'uncaughtException' listener and no capture callback (Node's own rule).
Napi::Value ReportFatalException(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object process = env.Global().Get("process").As<Napi::Object>();
  Napi::Value count = process.Get("listenerCount")
                          .As<Napi::Function>()
                          .Call(process, {Napi::String::New(env, "uncaughtException")});
  Napi::Value capture_fn = process.Get("hasUncaughtExceptionCaptureCallback");
  Napi::Value capture = capture_fn.IsFunction() ? capture_fn.As<Napi::Function>().Call(process, {}) : Napi::Value();
  bool fatal = !env.IsExceptionPending() && count.IsNumber() && count.As<Napi::Number>().Int32Value() == 0 &&
               !(capture.IsBoolean() && capture.As<Napi::Boolean>().Value());
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
  if (!fatal || info.Length() < 1) return env.Undefined();
  Napi::Value error = info[0];
  Napi::Value stack = error.IsObject() ? error.As<Napi::Object>().Get("stack") : Napi::Value();
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
  Napi::String text = stack.IsString() ? stack.As<Napi::String>() : error.ToString();
  if (env.IsExceptionPending()) {
    env.GetAndClearPendingException();
    text = Napi::String::New(env, "(an exception that cannot be printed)");
  }
  std::string line = "Uncaught " + text.Utf8Value() + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  return env.Undefined();
}

void GuardExitPath(Napi::Env env) {
  Napi::Value process = env.Global().Get("process");
  if (!process.IsObject()) return;
  Napi::Object object = process.As<Napi::Object>();
  Napi::Value on = object.Get("on");
  if (on.IsFunction()) {
    Napi::Function guard = Napi::Function::New<ExitFromExitEvent>(env, "exitForkedChild");
    if (exit_guard != nullptr) napi_delete_reference(env, exit_guard);  // inherited from a parent that was forked too
    napi_create_reference(env, guard, 1, &exit_guard);
    on.As<Napi::Function>().Call(object, {Napi::String::New(env, "exit"), guard});
    on.As<Napi::Function>().Call(object, {Napi::String::New(env, "uncaughtExceptionMonitor"),
                                          Napi::Function::New<ReportFatalException>(env, "reportFatal")});
  }
  object.Set("reallyExit", Napi::Function::New<ReallyExitForkedChild>(env, "reallyExit"));
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
}

bool ReadOption(Napi::Object options, const char* name, bool* out) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) return false;
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

// fork(options?): the child's pid in the parent, 0 in the child.
// options.parentDeathSignal: signal number the child gets when the forking
//   thread's process dies (PR_SET_PDEATHSIG); 0 or absent: none.
// options.newSession: setsid() in the child (no controlling terminal, own
//   process group). options.newProcessGroup: setpgid(0, 0) in the child.
Napi::Value Fork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int death_signal = 0;
  bool new_session = false;
  bool new_group = false;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "fork(options?: object)").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    Napi::Object options = info[0].As<Napi::Object>();
    Napi::Value sig = options.Get("parentDeathSignal");
    if (!sig.IsUndefined()) {
      death_signal = sig.IsNumber() ? sig.As<Napi::Number>().Int32Value() : -1;
      if (death_signal < 0 || death_signal > 64) {
        Napi::TypeError::New(env, "fork: parentDeathSignal must be a signal number").ThrowAsJavaScriptException();
        return Napi::Value();
      }
    }
    if (!ReadOption(options, "newSession", &new_session) || !ReadOption(options, "newProcessGroup", &new_group)) {
      Napi::TypeError::New(env, "fork: newSession and newProcessGroup must be booleans")
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }
  if (!OnMainThread(env)) {
    Napi::Error::New(env, "fork() is only possible on the main thread").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (!StartReaper(env)) return Napi::Value();

  uv_loop_t* loop = LoopOf(env);
  MarkMappingsForkable();
  std::fflush(nullptr);  // C stdio buffers would otherwise be written twice
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    ErrnoError(env, errno, "fork").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (pid > 0) {
    TrackChild(pid);
    return Napi::Number::New(env, pid);
  }

  // The child. Parent-death first, then check the parent did not die before
  // we asked: in that case behave as if the signal had come.
  if (death_signal > 0) {
    if (prctl(PR_SET_PDEATHSIG, death_signal) != 0) ChildFail("prctl(PR_SET_PDEATHSIG)", errno);
    if (getppid() != parent) {
      kill(getpid(), death_signal);
      _exit(128 + death_signal);
    }
  }
  if (new_session) {
    if (setsid() < 0) ChildFail("setsid", errno);
  } else if (new_group) {
    if (setpgid(0, 0) != 0) ChildFail("setpgid", errno);
  }
  int r = uv_loop_fork(loop);
  if (r != 0) ChildFail("uv_loop_fork", -r);
  ForgetChildrenAfterFork(env);
  CorrectProcessIds(env, parent);
  GuardExitPath(env);
  return Napi::Number::New(env, 0);
}

// exitNow(code): leave at once with _exit(), skipping Node's exit path (not
// fork-safe). Flush what matters first: C stdio here; JS streams are the
// caller's (wait for their write callbacks before calling this).
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  std::fflush(nullptr);
  _exit(code & 0xff);
}

Napi::Value GetPid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), getpid()); }
Napi::Value GetPpid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), getppid()); }

}  // namespace

void InitFork(Napi::Env env, Napi::Object exports) {
  exports.Set("fork", Napi::Function::New<Fork>(env, "fork"));
  exports.Set("exitNow", Napi::Function::New<ExitNow>(env, "exitNow"));
  exports.Set("getpid", Napi::Function::New<GetPid>(env, "getpid"));
  exports.Set("getppid", Napi::Function::New<GetPpid>(env, "getppid"));
}

}  // namespace thespis
