#include "stream.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cstring>
#include <limits>

#include "errno_names.h"

namespace ksc::stream {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Strings from /proc (comm, exe) are bytes, not text: replace what is not UTF-8 so that every line
// we write is valid JSON for strict readers.
std::string utf8_or_replaced(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        auto c = static_cast<unsigned char>(in[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool valid = len != 0 && i + len <= in.size();
        for (std::size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
        if (valid && len > 1) {
            // Reject overlong forms and surrogates, as strict parsers do.
            unsigned cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
            for (std::size_t k = 1; k < len; ++k)
                cp = (cp << 6) | (static_cast<unsigned char>(in[i + k]) & 0x3F);
            valid = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
                    !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
        }
        if (valid) {
            out.append(in.substr(i, len));
            i += len;
        } else {
            out += '?';
            ++i;
        }
    }
    return out;
}

void key(Writer& w, const char* k) {
    w.Key(k);
}
void str(Writer& w, const char* k, std::string_view v) {
    w.Key(k);
    std::string clean = utf8_or_replaced(v);
    w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}
void time(Writer& w, double t) {
    w.Key("t");
    w.Double(t);
}

std::string errno_key(int value) {
    if (auto name = errno_name(value)) return std::string(*name);
    return std::to_string(value);
}

// Which syscall: its arch, number and (when the table knows it) name.
void write_syscall_id(Writer& w, Arch arch, std::uint32_t nr, std::string_view name) {
    str(w, "arch", arch_name(arch));
    key(w, "nr");
    w.Uint(nr);
    if (!name.empty()) str(w, "name", name);
}

// {"EPERM": 3, "42": 1} under K, left out when there are none.
void write_errno_counts(Writer& w, const char* k, const std::map<int, std::uint64_t>& counts) {
    if (counts.empty()) return;
    key(w, k);
    w.StartObject();
    for (const auto& [err, n] : counts) {
        std::string name = errno_key(err);
        w.Key(name.c_str());
        w.Uint64(n);
    }
    w.EndObject();
}

// Which thread: its process and thread ids, its comm and (when known) its executable.
void write_thread(Writer& w, std::int64_t pid, std::int64_t tid, std::string_view comm,
                  std::string_view exe) {
    key(w, "pid");
    w.Int64(pid);
    key(w, "tid");
    w.Int64(tid);
    str(w, "comm", comm);
    if (!exe.empty()) str(w, "exe", exe);
}

void write_event(Writer& w, const Hello& e) {
    str(w, "type", "hello");
    str(w, "protocol", std::to_string(e.protocol_major) + "." + std::to_string(e.protocol_minor));
    str(w, "tracer", e.tracer_version);
    str(w, "kernel", e.kernel);
    str(w, "arch", arch_name(e.native_arch));
    str(w, "mode", mode_name(e.mode));
    str(w, "method", method_name(e.method));
    key(w, "pid");
    w.Int64(e.pid);
    if (e.check) {
        key(w, "check");
        w.StartObject();
        str(w, "mode", e.check->mode);
        key(w, "instructions");
        w.Uint64(e.check->instructions);
        w.EndObject();
    }
}

void write_event(Writer& w, const Attached& e) {
    str(w, "type", "attached");
    time(w, e.t);
    write_thread(w, e.pid, e.tid, e.comm, e.exe);
    if (e.late) {
        key(w, "late");
        w.Bool(true);
    }
}

void write_event(Writer& w, const Exited& e) {
    str(w, "type", "exited");
    time(w, e.t);
    key(w, "pid");
    w.Int64(e.pid);
    key(w, "tid");
    w.Int64(e.tid);
    if (e.exit_code) {
        key(w, "code");
        w.Int(*e.exit_code);
    }
    if (e.signal) {
        key(w, "signal");
        w.Int(*e.signal);
    }
    if (e.detached) {
        key(w, "detached");
        w.Bool(true);
    }
}

void write_event(Writer& w, const Syscall& e) {
    str(w, "type", "syscall");
    time(w, e.t);
    write_syscall_id(w, e.arch, e.nr, e.name);
    key(w, "pid");
    w.Int64(e.pid);
    str(w, "comm", e.comm);
    if (e.late) {
        key(w, "late");
        w.Bool(true);
    }
}

// An argument value: `value` is the first argument's low 32 bits, `value2` (only when not 0) the
// second's, so that no number needs more than 32 bits (JSON readers in other languages lose
// precision beyond 53).
void write_value(Writer& w, std::uint64_t v) {
    key(w, "value");
    w.Uint(static_cast<std::uint32_t>(v));
    if (v >> 32) {
        key(w, "value2");
        w.Uint(static_cast<std::uint32_t>(v >> 32));
    }
}

void write_event(Writer& w, const Argument& e) {
    str(w, "type", "argument");
    time(w, e.t);
    write_syscall_id(w, e.arch, e.nr, e.name);
    if (e.overflow) {
        key(w, "overflow");
        w.Bool(true);
    } else {
        write_value(w, e.value);
    }
    key(w, "pid");
    w.Int64(e.pid);
    str(w, "comm", e.comm);
}

void write_args(Writer& w, const std::array<std::uint64_t, 6>& args) {
    key(w, "args");
    w.StartArray();
    for (auto a : args) w.Uint64(a);
    w.EndArray();
}

void write_verdict(Writer& w, std::string_view action, const std::optional<int>& errno_value) {
    str(w, "action", action);
    if (errno_value) {
        key(w, "errno");
        w.Int(*errno_value);
    }
}

void write_event(Writer& w, const Denial& e) {
    str(w, "type", "denial");
    time(w, e.t);
    write_syscall_id(w, e.arch, e.nr, e.name);
    write_verdict(w, e.action, e.errno_value);
    write_args(w, e.args);
    write_thread(w, e.pid, e.tid, e.comm, e.exe);
    key(w, "enforced");
    w.Bool(e.enforced);
}

void write_event(Writer& w, const Progress& e) {
    str(w, "type", "progress");
    time(w, e.t);
    key(w, "syscalls");
    w.Uint64(e.syscalls);
    key(w, "events");
    w.Uint64(e.events);
    key(w, "threads");
    w.Uint64(e.threads);
    key(w, "processes");
    w.Uint64(e.processes);
}

void write_event(Writer& w, const Summary& e) {
    str(w, "type", "summary");
    time(w, e.t);
    key(w, "final");
    w.Bool(e.final);
    key(w, "returns_seen");
    w.Bool(e.returns_seen);
    key(w, "threads_seen");
    w.Uint64(e.threads_seen);
    key(w, "processes_seen");
    w.Uint64(e.processes_seen);
    key(w, "syscalls");
    w.StartArray();
    for (const auto& s : e.syscalls) {
        w.StartObject();
        write_syscall_id(w, s.arch, s.nr, s.name);
        key(w, "count");
        w.Uint64(s.count);
        write_errno_counts(w, "errors", s.errors);
        if (s.late_only) {
            key(w, "late_only");
            w.Bool(true);
        }
        if (!s.values.empty()) {
            // [first, second] pairs only where there is a second: most values are one number.
            key(w, "values");
            w.StartArray();
            for (auto v : s.values) {
                if (v >> 32) {
                    w.StartArray();
                    w.Uint(static_cast<std::uint32_t>(v));
                    w.Uint(static_cast<std::uint32_t>(v >> 32));
                    w.EndArray();
                } else {
                    w.Uint(static_cast<std::uint32_t>(v));
                }
            }
            w.EndArray();
        }
        if (s.values_overflow) {
            key(w, "values_overflow");
            w.Bool(true);
        }
        w.EndObject();
    }
    w.EndArray();
    key(w, "lost");
    w.StartArray();
    for (const auto& l : e.lost) {
        w.StartObject();
        str(w, "reason", l.reason);
        key(w, "count");
        w.Uint64(l.count);
        w.EndObject();
    }
    w.EndArray();
    if (!e.denials.empty()) {
        key(w, "denials");
        w.StartArray();
        for (const auto& d : e.denials) {
            w.StartObject();
            write_syscall_id(w, d.arch, d.nr, d.name);
            write_verdict(w, d.action, d.errno_value);
            key(w, "count");
            w.Uint64(d.count);
            key(w, "first_t");
            w.Double(d.first_t);
            str(w, "comm", d.comm);
            if (!d.exe.empty()) str(w, "exe", d.exe);
            write_args(w, d.args);
            write_errno_counts(w, "seen_errors", d.seen_errors);
            w.EndObject();
        }
        w.EndArray();
    }
}

void write_event(Writer& w, const Message& e) {
    str(w, "type", e.is_error ? "error" : "warning");
    str(w, "message", e.message);
    if (!e.code.empty()) str(w, "code", e.code);
}

void write_event(Writer& w, const Unknown& e) {
    str(w, "type", e.type);
}

// ---- decoding ----------------------------------------------------------------------------

using Value = rapidjson::Value;

// Field readers: a missing optional field keeps the default; a field of the wrong type is an
// error naming it.
struct Fields {
    const Value& obj;
    std::string error;

    bool fail(const char* name, const char* expected) {
        if (error.empty()) error = std::string("field \"") + name + "\" must be " + expected;
        return false;
    }

    bool string(const char* name, std::string& out, bool required = false) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return required ? fail(name, "present (a string)") : true;
        if (!it->value.IsString()) return fail(name, "a string");
        out.assign(it->value.GetString(), it->value.GetStringLength());
        return true;
    }
    bool boolean(const char* name, bool& out) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return true;
        if (!it->value.IsBool()) return fail(name, "true or false");
        out = it->value.GetBool();
        return true;
    }
    bool number(const char* name, double& out) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return true;
        if (!it->value.IsNumber()) return fail(name, "a number");
        out = it->value.GetDouble();
        return true;
    }
    bool int64(const char* name, std::int64_t& out, bool required = false) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return required ? fail(name, "present (an integer)") : true;
        if (!it->value.IsInt64()) return fail(name, "an integer");
        out = it->value.GetInt64();
        return true;
    }
    bool uint64(const char* name, std::uint64_t& out) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return true;
        if (!it->value.IsUint64()) return fail(name, "a non-negative integer");
        out = it->value.GetUint64();
        return true;
    }
    bool optional_int(const char* name, std::optional<int>& out) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return true;
        if (!it->value.IsInt()) return fail(name, "an integer");
        out = it->value.GetInt();
        return true;
    }
    bool nr(const char* name, std::uint32_t& out) {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd()) return fail(name, "present (a syscall number)");
        if (!it->value.IsUint()) return fail(name, "a syscall number (0 to 4294967295)");
        out = it->value.GetUint();
        return true;
    }
    bool arch(const char* name, Arch& out) {
        std::string text;
        if (!string(name, text, true)) return false;
        auto a = arch_from_name(text);
        if (!a) {
            error = "unknown architecture \"" + text + "\"";
            return false;
        }
        out = *a;
        return true;
    }
};

// The six arguments of a call: exactly six non-negative integers.
bool read_args(Fields& f, std::array<std::uint64_t, 6>& out) {
    auto it = f.obj.FindMember("args");
    if (it == f.obj.MemberEnd()) return true;
    if (!it->value.IsArray() || it->value.Size() != 6) return f.fail("args", "an array of 6 numbers");
    for (rapidjson::SizeType i = 0; i < 6; ++i) {
        if (!it->value[i].IsUint64()) return f.fail("args", "an array of 6 non-negative integers");
        out[i] = it->value[i].GetUint64();
    }
    return true;
}

// The verdict: a known OCI action name and, for SCMP_ACT_ERRNO only, an errno 0..4095.
bool read_verdict(Fields& f, std::string& action, std::optional<int>& errno_value) {
    if (!f.string("action", action, true) || !f.optional_int("errno", errno_value)) return false;
    if (action != "SCMP_ACT_ERRNO" && action != "SCMP_ACT_TRAP" && action != "SCMP_ACT_KILL_THREAD" &&
        action != "SCMP_ACT_KILL_PROCESS") {
        f.error = "unknown action \"" + action + "\"";
        return false;
    }
    if (errno_value && (action != "SCMP_ACT_ERRNO" || *errno_value < 0 || *errno_value > 4095))
        return f.fail("errno", "0 to 4095, and only with SCMP_ACT_ERRNO");
    return true;
}

// {"EPERM": 3, "42": 1}: errno names (or numbers the table lacks) to counts.
bool read_errno_counts(const Value& obj, std::map<int, std::uint64_t>& out, std::string& error) {
    for (const auto& m : obj.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        std::optional<int> err = errno_from_name(name);
        if (!err) {
            int v = 0;
            auto r = std::from_chars(name.data(), name.data() + name.size(), v);
            if (r.ec != std::errc() || r.ptr != name.data() + name.size() || v <= 0 || v > 4095) {
                error = "unknown errno \"" + std::string(name) + "\"";
                return false;
            }
            err = v;
        }
        if (!m.value.IsUint64()) {
            error = "errno counts must be integers";
            return false;
        }
        out[*err] += m.value.GetUint64();
    }
    return true;
}

// The optional errno counts FIELD of one entry of the array LIST.
Status read_errno_field(const Value& item, const char* field, const char* list,
                        std::map<int, std::uint64_t>& out) {
    auto m = item.FindMember(field);
    if (m == item.MemberEnd()) return Ok{};
    const std::string where = std::string("in \"") + list + "\": ";
    if (!m->value.IsObject()) return make_error(where + "field \"" + field + "\" must be an object");
    std::string error;
    if (!read_errno_counts(m->value, out, error)) return make_error(where + error);
    return Ok{};
}

bool parse_protocol(const std::string& text, int& major, int& minor) {
    auto dot = text.find('.');
    std::string_view maj = std::string_view(text).substr(0, dot);
    std::string_view min = dot == std::string::npos ? "0" : std::string_view(text).substr(dot + 1);
    auto r1 = std::from_chars(maj.data(), maj.data() + maj.size(), major);
    auto r2 = std::from_chars(min.data(), min.data() + min.size(), minor);
    return r1.ec == std::errc() && r1.ptr == maj.data() + maj.size() && r2.ec == std::errc() &&
           r2.ptr == min.data() + min.size() && !maj.empty() && !min.empty();
}

Result<Event> decode_hello(Fields& f) {
    Hello h;
    std::string protocol, mode, method;
    if (!f.string("protocol", protocol, true)) return make_error(f.error);
    if (!parse_protocol(protocol, h.protocol_major, h.protocol_minor))
        return make_error("field \"protocol\" must look like \"1.0\", not \"" + protocol + "\"");
    if (!f.string("tracer", h.tracer_version) || !f.string("kernel", h.kernel) || !f.string("mode", mode) ||
        !f.string("method", method) || !f.int64("pid", h.pid))
        return make_error(f.error);
    if (f.obj.HasMember("arch") && !f.arch("arch", h.native_arch)) return make_error(f.error);
    auto check = f.obj.FindMember("check");
    if (check != f.obj.MemberEnd()) {
        if (!check->value.IsObject()) return make_error("field \"check\" must be an object");
        Fields g{check->value, {}};
        CheckInfo c;
        if (!g.string("mode", c.mode, true) || !g.uint64("instructions", c.instructions))
            return make_error("in \"check\": " + g.error);
        h.check = std::move(c);
    }
    // Unknown modes and methods are kept as the defaults: a newer tracer may add some.
    h.mode = mode == "launch" ? Mode::Launch : Mode::Attach;
    h.method = method == "seccomp" ? Method::Seccomp : Method::Ptrace;
    return Event{h};
}

Result<Event> decode_summary(Fields& f) {
    Summary s;
    if (!f.number("t", s.t) || !f.boolean("final", s.final) || !f.boolean("returns_seen", s.returns_seen) ||
        !f.uint64("threads_seen", s.threads_seen) || !f.uint64("processes_seen", s.processes_seen))
        return make_error(f.error);
    auto sys = f.obj.FindMember("syscalls");
    if (sys != f.obj.MemberEnd()) {
        if (!sys->value.IsArray()) return make_error("field \"syscalls\" must be an array");
        for (const auto& item : sys->value.GetArray()) {
            if (!item.IsObject()) return make_error("each of \"syscalls\" must be an object");
            Fields g{item, {}};
            SyscallCount c;
            if (!g.arch("arch", c.arch) || !g.nr("nr", c.nr) || !g.string("name", c.name) ||
                !g.uint64("count", c.count) || !g.boolean("late_only", c.late_only))
                return make_error("in \"syscalls\": " + g.error);
            if (!g.boolean("values_overflow", c.values_overflow))
                return make_error("in \"syscalls\": " + g.error);
            auto vals = item.FindMember("values");
            if (vals != item.MemberEnd()) {
                if (!vals->value.IsArray())
                    return make_error("in \"syscalls\": field \"values\" must be an array");
                for (const auto& v : vals->value.GetArray()) {
                    if (v.IsUint()) {
                        c.values.push_back(v.GetUint());
                    } else if (v.IsArray() && v.Size() == 2 && v[0].IsUint() && v[1].IsUint()) {
                        c.values.push_back(std::uint64_t{v[0].GetUint()} | std::uint64_t{v[1].GetUint()}
                                                                               << 32);
                    } else {
                        return make_error(
                            "in \"syscalls\": each of \"values\" must be a 32-bit number or a pair of them");
                    }
                }
            }
            if (auto read = read_errno_field(item, "errors", "syscalls", c.errors); !read)
                return read.error();
            s.syscalls.push_back(std::move(c));
        }
    }
    auto lost = f.obj.FindMember("lost");
    if (lost != f.obj.MemberEnd()) {
        if (!lost->value.IsArray()) return make_error("field \"lost\" must be an array");
        for (const auto& item : lost->value.GetArray()) {
            if (!item.IsObject()) return make_error("each of \"lost\" must be an object");
            Fields g{item, {}};
            Lost l;
            if (!g.string("reason", l.reason) || !g.uint64("count", l.count))
                return make_error("in \"lost\": " + g.error);
            s.lost.push_back(std::move(l));
        }
    }
    auto denials = f.obj.FindMember("denials");
    if (denials != f.obj.MemberEnd()) {
        if (!denials->value.IsArray()) return make_error("field \"denials\" must be an array");
        if (denials->value.Size() > kMaxDenials)
            return make_error("field \"denials\" has more than " + std::to_string(kMaxDenials) + " entries");
        for (const auto& item : denials->value.GetArray()) {
            if (!item.IsObject()) return make_error("each of \"denials\" must be an object");
            Fields g{item, {}};
            DenialCount d;
            if (!g.arch("arch", d.arch) || !g.nr("nr", d.nr) || !g.string("name", d.name) ||
                !read_verdict(g, d.action, d.errno_value) || !g.uint64("count", d.count) ||
                !g.number("first_t", d.first_t) || !g.string("comm", d.comm) || !g.string("exe", d.exe) ||
                !read_args(g, d.args))
                return make_error("in \"denials\": " + g.error);
            if (auto read = read_errno_field(item, "seen_errors", "denials", d.seen_errors); !read)
                return read.error();
            s.denials.push_back(std::move(d));
        }
    }
    return Event{std::move(s)};
}

}  // namespace

std::string_view mode_name(Mode mode) {
    return mode == Mode::Launch ? "launch" : "attach";
}
std::string_view method_name(Method method) {
    return method == Method::Seccomp ? "seccomp" : "ptrace";
}

std::string encode(const Event& event) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.SetMaxDecimalPlaces(3);  // times to the millisecond (truncated)
    w.StartObject();
    std::visit([&](const auto& e) { write_event(w, e); }, event);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

Result<Event> decode(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) return make_error("line longer than the stream allows (4 MiB)");
    rapidjson::Document doc;
    // Iterative parsing: a hostile line of nested brackets cannot exhaust our stack.
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(line.data(),
                                                                                      line.size());
    if (doc.HasParseError())
        return make_error(std::string("not JSON at column ") + std::to_string(doc.GetErrorOffset() + 1) +
                          ": " + rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) return make_error("not a JSON object");
    Fields f{doc, {}};
    std::string type;
    if (!f.string("type", type, true)) return make_error(f.error);

    if (type == "hello") return decode_hello(f);
    if (type == "attached") {
        Attached a;
        if (!f.number("t", a.t) || !f.int64("pid", a.pid, true) || !f.int64("tid", a.tid) ||
            !f.string("comm", a.comm) || !f.string("exe", a.exe) || !f.boolean("late", a.late))
            return make_error(f.error);
        if (a.tid == 0) a.tid = a.pid;
        return Event{std::move(a)};
    }
    if (type == "exited") {
        Exited x;
        if (!f.number("t", x.t) || !f.int64("pid", x.pid, true) || !f.int64("tid", x.tid) ||
            !f.optional_int("code", x.exit_code) || !f.optional_int("signal", x.signal) ||
            !f.boolean("detached", x.detached))
            return make_error(f.error);
        if (x.tid == 0) x.tid = x.pid;
        return Event{std::move(x)};
    }
    if (type == "syscall") {
        Syscall s;
        if (!f.number("t", s.t) || !f.arch("arch", s.arch) || !f.nr("nr", s.nr) ||
            !f.string("name", s.name) || !f.int64("pid", s.pid) || !f.string("comm", s.comm) ||
            !f.boolean("late", s.late))
            return make_error(f.error);
        return Event{std::move(s)};
    }
    if (type == "argument") {
        Argument a;
        std::uint64_t first = 0, second = 0;
        if (!f.number("t", a.t) || !f.arch("arch", a.arch) || !f.nr("nr", a.nr) ||
            !f.string("name", a.name) || !f.uint64("value", first) || !f.uint64("value2", second) ||
            !f.boolean("overflow", a.overflow) || !f.int64("pid", a.pid) || !f.string("comm", a.comm))
            return make_error(f.error);
        if (first > 0xffffffffu || second > 0xffffffffu)
            return make_error("fields \"value\" and \"value2\" must be 32-bit numbers");
        a.value = first | second << 32;
        return Event{std::move(a)};
    }
    if (type == "denial") {
        Denial d;
        if (!f.number("t", d.t) || !f.arch("arch", d.arch) || !f.nr("nr", d.nr) ||
            !f.string("name", d.name) || !read_verdict(f, d.action, d.errno_value) || !read_args(f, d.args) ||
            !f.int64("pid", d.pid) || !f.int64("tid", d.tid) || !f.string("comm", d.comm) ||
            !f.string("exe", d.exe) || !f.boolean("enforced", d.enforced))
            return make_error(f.error);
        if (d.tid == 0) d.tid = d.pid;
        return Event{std::move(d)};
    }
    if (type == "progress") {
        Progress p;
        if (!f.number("t", p.t) || !f.uint64("syscalls", p.syscalls) || !f.uint64("events", p.events) ||
            !f.uint64("threads", p.threads) || !f.uint64("processes", p.processes))
            return make_error(f.error);
        return Event{p};
    }
    if (type == "summary") return decode_summary(f);
    if (type == "error" || type == "warning") {
        Message m;
        m.is_error = type == "error";
        if (!f.string("message", m.message, true) || !f.string("code", m.code)) return make_error(f.error);
        return Event{std::move(m)};
    }
    return Event{Unknown{type}};
}

Status check_protocol(const Hello& hello) {
    if (hello.protocol_major == kProtocolMajor) return Ok{};
    return make_error("speaks stream protocol " + std::to_string(hello.protocol_major) + "." +
                      std::to_string(hello.protocol_minor) + ", this kubectl-seccomp speaks " +
                      std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor));
}

std::string_view command_text(Command command) {
    switch (command) {
        case Command::Stop:
            return "stop";
        case Command::Snapshot:
            return "snapshot";
        case Command::Ping:
            return "ping";
    }
    return "ping";
}

std::optional<Command> parse_command(std::string_view line) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line == "stop") return Command::Stop;
    if (line == "snapshot") return Command::Snapshot;
    if (line == "ping") return Command::Ping;
    return std::nullopt;
}

std::vector<std::string> LineSplitter::feed(std::string_view data) {
    std::vector<std::string> lines;
    while (!data.empty()) {
        auto nl = data.find('\n');
        std::string_view part = data.substr(0, nl);
        if (skipping_) {
            // Inside an overlong line: drop bytes until its end.
        } else if (buf_.size() + part.size() > kMaxLineBytes) {
            buf_.clear();
            skipping_ = true;
            ++overlong_;
        } else {
            buf_.append(part);
        }
        if (nl == std::string_view::npos) break;
        if (!skipping_) lines.push_back(std::move(buf_));
        buf_.clear();
        skipping_ = false;
        data.remove_prefix(nl + 1);
    }
    return lines;
}

std::string LineSplitter::take_rest() {
    std::string rest = skipping_ ? std::string() : std::move(buf_);
    buf_.clear();
    skipping_ = false;
    return rest;
}

}  // namespace ksc::stream
