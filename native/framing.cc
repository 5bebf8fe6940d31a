// Length-prefixed framing on a byte stream.
//
// Wire format: every frame is a 4-byte unsigned length in big-endian (network)
// order followed by that many payload bytes. src/transport/framing.ts holds the
// pure-TS twin; both must agree byte for byte and error for error.
//
// Copies: a frame that lies wholly inside one pushed chunk is returned as a
// view of that chunk (no copy). Only a frame that straddles chunks is copied,
// once, into a buffer of exactly its size, allocated when its header is
// complete and after the length has been checked against the limit.
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace thespis {
namespace {

constexpr uint32_t kHeaderBytes = 4;
constexpr const char* kTooLargeCode = "ERR_FRAME_TOO_LARGE";

inline uint32_t ReadLength(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void WriteLength(uint8_t* p, uint32_t n) {
  p[0] = uint8_t(n >> 24);
  p[1] = uint8_t(n >> 16);
  p[2] = uint8_t(n >> 8);
  p[3] = uint8_t(n);
}

// Shared with the TS framer's message so both fail the same way.
std::string TooLargeMessage(uint32_t declared, uint32_t max) {
  return "frame of " + std::to_string(declared) + " bytes exceeds the limit of " +
         std::to_string(max) + " bytes";
}

struct ByteView {
  uint8_t* data = nullptr;
  size_t length = 0;
  napi_value arraybuffer = nullptr;
  size_t byte_offset = 0;
};

bool GetUint8Array(napi_env env, napi_value value, ByteView* out) {
  bool is_typedarray = false;
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok || !is_typedarray) return false;
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &out->length, &data, &out->arraybuffer,
                               &out->byte_offset) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  out->data = static_cast<uint8_t*>(data);
  return true;
}

class Framer : public Napi::ObjectWrap<Framer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Framer",
                       {
                           InstanceMethod<&Framer::Push>("push"),
                           InstanceAccessor<&Framer::BufferedBytes>("bufferedBytes"),
                           InstanceAccessor<&Framer::MaxFrameBytes>("maxFrameBytes"),
                       });
  }

  explicit Framer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Framer>(info) {
    Napi::Env env = info.Env();
    double max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(max >= 0 && max <= 4294967295.0) || max != static_cast<double>(static_cast<uint64_t>(max))) {
      Napi::RangeError::New(env, "maxFrameBytes must be an integer from 0 to 4294967295")
          .ThrowAsJavaScriptException();
      return;
    }
    max_ = static_cast<uint32_t>(max);
  }

 private:
  Napi::Value Push(const Napi::CallbackInfo& info) {
    napi_env env = info.Env();
    ByteView chunk;
    if (info.Length() < 1 || !GetUint8Array(env, info[0], &chunk)) {
      Napi::TypeError::New(info.Env(), "push expects a Uint8Array").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    if (failed_) return ThrowTooLarge(info.Env());
    // Views are only made over a plain ArrayBuffer; frames of a chunk backed
    // by a SharedArrayBuffer are copied out instead.
    bool can_view = false;
    napi_is_arraybuffer(env, chunk.arraybuffer, &can_view);

    frames_.clear();
    const uint8_t* p = chunk.data;
    const size_t n = chunk.length;
    size_t pos = 0;
    for (;;) {
      if (!pending_.IsEmpty()) {
        size_t take = std::min(n - pos, size_t(pending_length_ - pending_have_));
        std::memcpy(pending_data_ + pending_have_, p + pos, take);
        pos += take;
        pending_have_ += uint32_t(take);
        if (pending_have_ < pending_length_) break;
        frames_.push_back(pending_.Value());
        pending_.Reset();
        pending_data_ = nullptr;
      }

      uint32_t length;
      if (header_have_ == 0 && n - pos >= kHeaderBytes) {
        length = ReadLength(p + pos);
        pos += kHeaderBytes;
      } else {
        size_t take = std::min(n - pos, size_t(kHeaderBytes - header_have_));
        std::memcpy(header_ + header_have_, p + pos, take);
        pos += take;
        header_have_ += uint32_t(take);
        if (header_have_ < kHeaderBytes) break;
        header_have_ = 0;
        length = ReadLength(header_);
      }

      if (length > max_) {
        // Refuse before allocating or buffering anything for this frame; the
        // framer stays failed because the stream has lost its frame boundary.
        failed_ = true;
        failed_length_ = length;
        return ThrowTooLarge(info.Env());
      }

      if (n - pos >= length) {
        napi_value frame;
        if (can_view) {
          if (napi_create_typedarray(env, napi_uint8_array, length, chunk.arraybuffer, chunk.byte_offset + pos,
                                     &frame) != napi_ok) {
            return ThrowInternal(info.Env());
          }
        } else {
          Napi::Uint8Array copy = Napi::Uint8Array::New(info.Env(), length);
          if (info.Env().IsExceptionPending()) return Napi::Value();
          std::memcpy(copy.Data(), p + pos, length);
          frame = copy;
        }
        frames_.push_back(frame);
        pos += length;
        continue;
      }

      Napi::Uint8Array body = Napi::Uint8Array::New(info.Env(), length);
      if (info.Env().IsExceptionPending()) return Napi::Value();
      pending_ = Napi::Persistent(body);
      pending_data_ = body.Data();
      pending_length_ = length;
      pending_have_ = 0;
      // The loop's first branch copies the rest of this chunk into it.
    }

    napi_value result;
    if (napi_create_array_with_length(env, frames_.size(), &result) != napi_ok) return ThrowInternal(info.Env());
    for (size_t i = 0; i < frames_.size(); i++) {
      if (napi_set_element(env, result, uint32_t(i), frames_[i]) != napi_ok) return ThrowInternal(info.Env());
    }
    frames_.clear();
    return Napi::Value(env, result);
  }

  // An N-API call failed without throwing (it should not happen): never hand
  // back undefined as if it were a list of frames.
  Napi::Value ThrowInternal(Napi::Env env) {
    frames_.clear();
    if (!env.IsExceptionPending()) Napi::Error::New(env, "Framer.push: N-API call failed").ThrowAsJavaScriptException();
    return Napi::Value();
  }

  Napi::Value ThrowTooLarge(Napi::Env env) {
    Napi::Error error = Napi::Error::New(env, TooLargeMessage(failed_length_, max_));
    error.Set("code", Napi::String::New(env, kTooLargeCode));
    error.Set("declaredBytes", Napi::Number::New(env, failed_length_));
    error.Set("maxFrameBytes", Napi::Number::New(env, max_));
    error.ThrowAsJavaScriptException();
    return Napi::Value();
  }

  // Bytes of the stream taken in but not yet returned: a partial header, or
  // the header and the part of the body received so far.
  Napi::Value BufferedBytes(const Napi::CallbackInfo& info) {
    double held = pending_.IsEmpty() ? double(header_have_) : double(kHeaderBytes) + double(pending_have_);
    return Napi::Number::New(info.Env(), held);
  }

  Napi::Value MaxFrameBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), max_);
  }

  uint32_t max_ = 0;
  uint8_t header_[kHeaderBytes] = {0, 0, 0, 0};
  uint32_t header_have_ = 0;
  Napi::Reference<Napi::Uint8Array> pending_;
  uint8_t* pending_data_ = nullptr;
  uint32_t pending_length_ = 0;
  uint32_t pending_have_ = 0;
  bool failed_ = false;
  uint32_t failed_length_ = 0;
  std::vector<napi_value> frames_;  // scratch, reused across calls
};

// encodeFrames(frames: Uint8Array[]): Buffer. One allocation and one copy per
// payload, so a link can hand the whole batch to a single write.
Napi::Value EncodeFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "encodeFrames expects an array of Uint8Array").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  napi_value list = info[0];
  uint32_t count = 0;
  napi_get_array_length(env, list, &count);
  std::vector<ByteView> views(count);
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, list, i, &item) != napi_ok) return Napi::Value();
    if (!GetUint8Array(env, item, &views[i])) {
      Napi::TypeError::New(env, "encodeFrames: frame " + std::to_string(i) + " is not a Uint8Array")
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
    if (views[i].length > 0xffffffffu) {
      Napi::RangeError::New(env, "encodeFrames: frame " + std::to_string(i) + " is longer than 4294967295 bytes")
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
    total += kHeaderBytes + views[i].length;
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, total);
  if (env.IsExceptionPending()) return Napi::Value();
  uint8_t* w = out.Data();
  for (const ByteView& v : views) {
    WriteLength(w, uint32_t(v.length));
    if (v.length > 0) std::memcpy(w + kHeaderBytes, v.data, v.length);
    w += kHeaderBytes + v.length;
  }
  return out;
}

}  // namespace

void InitFraming(Napi::Env env, Napi::Object exports) {
  exports.Set("Framer", Framer::Define(env));
  exports.Set("encodeFrames", Napi::Function::New<EncodeFrames>(env, "encodeFrames"));
  exports.Set("frameHeaderBytes", Napi::Number::New(env, kHeaderBytes));
}

}  // namespace thespis
