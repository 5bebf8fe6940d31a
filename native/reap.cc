// Reaping the children this addon forked, and only those.
//
// Why per-pid waitpid: libuv reaps the children Node spawns (child_process)
// with waitpid(pid, WNOHANG) on each pid it knows. A waitpid(-1) here would
// steal their exit statuses and break child_process, so we do exactly as
// libuv does, over the set of pids fork() returned.
//
// Why a SIGCHLD watcher and no poll: Node offers no process.on('SIGCHLD')
// (libuv reserves it for its own child watcher). A uv_signal_t on SIGCHLD in
// the addon coexists with libuv's: libuv fans each signal out to every
// watcher of that signal number. The watcher is started before the first
// fork, so a child that dies at once is still seen; signals that coalesce do
// no harm because each wake-up checks every known pid. Like a spawned child in
// Node, a forked child keeps its parent's loop alive while an exit handler is
// set and the child has not been reaped; otherwise the watcher is unref'd.
//
// Main thread only: fork() is refused on worker threads, so there is nothing
// to reap anywhere else, and one set of pids per process is the truth.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common.h"

namespace thespis {
namespace {

struct ChildExit {
  pid_t pid;
  int code;    // -1: none (killed by a signal, or status unknown)
  int signal;  // 0: none
};

struct Reaper {
  bool started = false;
  napi_env env = nullptr;
  uv_signal_t sigchld;
  uv_timer_t deliver_soon;  // hands queued exits to a handler set later
  Napi::FunctionReference* handler = nullptr;
  std::vector<pid_t> children;
  std::vector<ChildExit> undelivered;
};

Reaper* reaper = nullptr;  // never freed: it must outlive every env teardown

const char* SignalName(int sig) {
  switch (sig) {
#define THESPIS_SIGNAL(name) \
  case name:                 \
    return #name;
    THESPIS_SIGNAL(SIGHUP) THESPIS_SIGNAL(SIGINT) THESPIS_SIGNAL(SIGQUIT) THESPIS_SIGNAL(SIGILL)
    THESPIS_SIGNAL(SIGTRAP) THESPIS_SIGNAL(SIGABRT) THESPIS_SIGNAL(SIGBUS) THESPIS_SIGNAL(SIGFPE)
    THESPIS_SIGNAL(SIGKILL) THESPIS_SIGNAL(SIGUSR1) THESPIS_SIGNAL(SIGSEGV) THESPIS_SIGNAL(SIGUSR2)
    THESPIS_SIGNAL(SIGPIPE) THESPIS_SIGNAL(SIGALRM) THESPIS_SIGNAL(SIGTERM) THESPIS_SIGNAL(SIGCHLD)
    THESPIS_SIGNAL(SIGCONT) THESPIS_SIGNAL(SIGSTOP) THESPIS_SIGNAL(SIGTSTP) THESPIS_SIGNAL(SIGTTIN)
    THESPIS_SIGNAL(SIGTTOU) THESPIS_SIGNAL(SIGURG) THESPIS_SIGNAL(SIGXCPU) THESPIS_SIGNAL(SIGXFSZ)
    THESPIS_SIGNAL(SIGVTALRM) THESPIS_SIGNAL(SIGPROF) THESPIS_SIGNAL(SIGWINCH) THESPIS_SIGNAL(SIGIO)
    THESPIS_SIGNAL(SIGSYS)
#ifdef SIGSTKFLT
    THESPIS_SIGNAL(SIGSTKFLT)
#endif
#ifdef SIGPWR
    THESPIS_SIGNAL(SIGPWR)
#endif
#undef THESPIS_SIGNAL
    default:
      return nullptr;
  }
}

// { pid, code, signal } as Node reports a child's end: code is null when a
// signal ended it, signal is null when it exited; both are null when the
// status was lost (someone else reaped it).
Napi::Object ExitToJs(Napi::Env env, const ChildExit& exit) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, exit.pid));
  o.Set("code", exit.code >= 0 ? Napi::Value(Napi::Number::New(env, exit.code)) : env.Null());
  if (exit.signal == 0) {
    o.Set("signal", env.Null());
  } else {
    const char* name = SignalName(exit.signal);
    o.Set("signal", Napi::String::New(env, name ? std::string(name) : "SIG" + std::to_string(exit.signal)));
  }
  return o;
}

// Collects the exits of known children that have ended, and forgets them.
void CheckChildren(std::vector<ChildExit>* found) {
  std::vector<pid_t>& kids = reaper->children;
  for (size_t i = 0; i < kids.size();) {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(kids[i], &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    ChildExit exit{kids[i], -1, 0};
    if (r == kids[i] && WIFEXITED(status)) {
      exit.code = WEXITSTATUS(status);
    } else if (r == kids[i] && WIFSIGNALED(status)) {
      exit.signal = WTERMSIG(status);
    } else if (!(r < 0 && errno == ECHILD)) {
      i++;  // still running (or stopped: we do not ask for WUNTRACED)
      continue;
    }
    found->push_back(exit);
    kids[i] = kids.back();
    kids.pop_back();
  }
}

void UpdateLoopRef() {
  if (!reaper->started) return;
  uv_handle_t* handle = reinterpret_cast<uv_handle_t*>(&reaper->sigchld);
  if (reaper->handler != nullptr && !reaper->children.empty()) {
    uv_ref(handle);
  } else {
    uv_unref(handle);
  }
}

void Deliver() {
  if (reaper->handler == nullptr || reaper->undelivered.empty()) return;
  Napi::Env env(reaper->env);
  Napi::HandleScope scope(env);
  // One at a time from the front: the handler may replace or clear itself.
  while (reaper->handler != nullptr && !reaper->undelivered.empty()) {
    ChildExit exit = reaper->undelivered.front();
    reaper->undelivered.erase(reaper->undelivered.begin());
    Napi::HandleScope inner(env);
    if (!CallFromLoop(env, env.Global(), *reaper->handler, {ExitToJs(env, exit)})) {
      reaper->undelivered.insert(reaper->undelivered.begin(), exit);  // JS is gone; keep it
      return;
    }
  }
}

void OnSigchld(uv_signal_t*, int) {
  CheckChildren(&reaper->undelivered);
  UpdateLoopRef();
  Deliver();
}

void OnDeliverSoon(uv_timer_t*) { Deliver(); }

void DropHandler() {
  if (reaper->handler == nullptr) return;
  delete reaper->handler;
  reaper->handler = nullptr;
}

void OnEnvCleanup(void*) {
  if (!reaper->started) return;
  reaper->started = false;
  uv_signal_stop(&reaper->sigchld);
  uv_close(reinterpret_cast<uv_handle_t*>(&reaper->sigchld), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&reaper->deliver_soon), nullptr);
  DropHandler();
}

bool RequireMainThread(Napi::Env env, const char* what) {
  if (OnMainThread(env)) return true;
  Napi::Error::New(env, std::string(what) + " is only available on the main thread")
      .ThrowAsJavaScriptException();
  return false;
}

// onChildExit(handler | null): handler({ pid, code, signal }) is called once
// per forked child that ends. Exits seen while no handler is set wait for one.
Napi::Value OnChildExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireMainThread(env, "onChildExit")) return Napi::Value();
  bool clear = info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined();
  if (!clear && !info[0].IsFunction()) {
    Napi::TypeError::New(env, "onChildExit expects a function or null").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (!StartReaper(env)) return Napi::Value();
  DropHandler();
  if (!clear) {
    reaper->handler = new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>()));
    if (!reaper->undelivered.empty()) uv_timer_start(&reaper->deliver_soon, OnDeliverSoon, 0, 0);
  }
  UpdateLoopRef();
  return env.Undefined();
}

// reapChildren(): checks every known child now and returns the exits not yet
// handed to the handler (they will not reach it). For shutdown paths that
// cannot wait for the loop.
Napi::Value ReapChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireMainThread(env, "reapChildren")) return Napi::Value();
  std::vector<ChildExit> exits;
  if (reaper != nullptr) {
    exits.swap(reaper->undelivered);
    CheckChildren(&exits);
    UpdateLoopRef();
  }
  Napi::Array out = Napi::Array::New(env, exits.size());
  for (size_t i = 0; i < exits.size(); i++) out.Set(uint32_t(i), ExitToJs(env, exits[i]));
  return out;
}

// forkedChildren(): pids forked by this process that have not been reaped.
Napi::Value ForkedChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = reaper != nullptr ? reaper->children.size() : 0;
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) out.Set(uint32_t(i), Napi::Number::New(env, reaper->children[i]));
  return out;
}

}  // namespace

bool StartReaper(Napi::Env env) {
  if (!RequireMainThread(env, "the child reaper")) return false;
  if (reaper == nullptr) reaper = new Reaper();
  if (reaper->started) return true;
  uv_loop_t* loop = LoopOf(env);
  int r = uv_signal_init(loop, &reaper->sigchld);
  if (r == 0) r = uv_signal_start(&reaper->sigchld, OnSigchld, SIGCHLD);
  if (r != 0) {
    ErrnoError(env, -r, "uv_signal_start").ThrowAsJavaScriptException();
    return false;
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&reaper->sigchld));
  uv_timer_init(loop, &reaper->deliver_soon);
  uv_unref(reinterpret_cast<uv_handle_t*>(&reaper->deliver_soon));
  reaper->env = env;
  reaper->started = true;
  napi_add_env_cleanup_hook(env, OnEnvCleanup, nullptr);
  return true;
}

void TrackChild(pid_t pid) {
  reaper->children.push_back(pid);
  UpdateLoopRef();
}

void ForgetChildrenAfterFork(Napi::Env) {
  if (reaper == nullptr) return;
  reaper->children.clear();
  reaper->undelivered.clear();
  if (reaper->started) uv_timer_stop(&reaper->deliver_soon);
  DropHandler();
  UpdateLoopRef();
}

void InitReap(Napi::Env env, Napi::Object exports) {
  exports.Set("onChildExit", Napi::Function::New<OnChildExit>(env, "onChildExit"));
  exports.Set("reapChildren", Napi::Function::New<ReapChildren>(env, "reapChildren"));
  exports.Set("forkedChildren", Napi::Function::New<ForkedChildren>(env, "forkedChildren"));
}

}  // namespace thespis
