#include "profile_json.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <seccomp.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "json_doc.h"
#include "syscall_table.h"

namespace ksc {

bool is_syscall_anywhere(std::string_view name) {
    for (Arch a : all_arches())
        if (find_syscall(a, name)) return true;
    // Newer than libseccomp 2.5.4, on arches we have no table for.
    static constexpr std::string_view kOtherArchNewer[] = {"riscv_hwprobe", "riscv_flush_icache"};
    for (auto n : kOtherArchNewer)
        if (n == name) return true;
    std::string n(name);
    return seccomp_syscall_resolve_name(n.c_str()) != __NR_SCMP_ERROR;
}

namespace {

using Kind = DocNode::Kind;

std::string_view kind_name(Kind k) {
    switch (k) {
        case Kind::Null:
            return "null";
        case Kind::Bool:
            return "a boolean";
        case Kind::Number:
            return "a number";
        case Kind::String:
            return "a string";
        case Kind::Plain:
            return "a scalar";
        case Kind::Array:
            return "a list";
        case Kind::Object:
            return "an object";
    }
    return "?";
}

// One decoding pass: the first error stops it; warnings accumulate.
class Decoder {
  public:
    Decoder(std::vector<std::string>* warnings, std::span<const std::string_view> skip)
        : warnings_(warnings), skip_(skip) {}

    std::optional<Error> error;

    bool fail(const DocNode& at, std::string_view path, std::string message) {
        if (!error) error = make_error(fmt::format("{}{}: {}", doc_position(at), path, message));
        return false;
    }
    void warn(const DocNode& at, std::string_view path, std::string message) {
        if (warnings_) warnings_->push_back(fmt::format("{}{}: {}", doc_position(at), path, message));
    }

    bool expect(const DocNode& n, Kind kind, std::string_view path, std::string_view what) {
        if (n.kind == kind) return true;
        return fail(n, path, fmt::format("expected {}, found {}", what, kind_name(n.kind)));
    }

    // Object members, checking duplicates and warning about keys nobody reads.
    bool members(const DocNode& obj, std::string_view path, std::span<const std::string_view> known) {
        std::set<std::string_view> seen;
        for (std::size_t i = 0; i < obj.keys.size(); ++i) {
            const std::string& key = obj.keys[i];
            if (!seen.insert(key).second)
                return fail(obj.items[i], path, fmt::format("duplicate key \"{}\"", key));
            bool is_known = std::find(known.begin(), known.end(), key) != known.end() ||
                            std::find(skip_.begin(), skip_.end(), key) != skip_.end();
            if (!is_known)
                warn(obj.items[i], path,
                     fmt::format("unknown field \"{}\" ignored (runtimes ignore it too; a typo?)", key));
        }
        return true;
    }

    bool string(const DocNode& n, std::string_view path, std::string& out) {
        if (n.kind == Kind::Null) return true;
        if (n.kind != Kind::String && n.kind != Kind::Plain) return expect(n, Kind::String, path, "a string");
        out = n.text;
        return true;
    }

    bool uint(const DocNode& n, std::string_view path, std::uint64_t max, std::uint64_t& out) {
        if (n.kind != Kind::Number && n.kind != Kind::Plain)
            return fail(n, path, fmt::format("expected an unsigned integer, found {}", kind_name(n.kind)));
        const char* first = n.text.data();
        const char* last = first + n.text.size();
        int base = 10;
        // YAML 1.1 writers may print big masks in hex.
        if (n.kind == Kind::Plain && n.text.size() > 2 && n.text[0] == '0' &&
            (n.text[1] == 'x' || n.text[1] == 'X')) {
            first += 2;
            base = 16;
        }
        std::uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(first, last, v, base);
        if (ec != std::errc{} || ptr != last || first == last)
            return fail(n, path, fmt::format("expected an unsigned integer, found \"{}\"", n.text));
        if (v > max) return fail(n, path, fmt::format("{} is out of range (at most {})", n.text, max));
        out = v;
        return true;
    }

    bool strings(const DocNode& n, std::string_view path, std::vector<std::string>& out) {
        if (n.kind == Kind::Null) return true;
        if (!expect(n, Kind::Array, path, "a list of strings")) return false;
        for (std::size_t i = 0; i < n.items.size(); ++i) {
            std::string s;
            auto p = fmt::format("{}[{}]", path, i);
            if (n.items[i].kind == Kind::Null || !string(n.items[i], p, s))
                return error ? false : fail(n.items[i], p, "expected a string, found null");
            out.push_back(std::move(s));
        }
        return true;
    }

    bool action(const DocNode& n, std::string_view path, Action& out) {
        std::string s;
        if (n.kind == Kind::Null) return fail(n, path, "expected an action, found null");
        if (!string(n, path, s)) return false;
        auto a = action_from_name(s);
        if (!a)
            return fail(n, path,
                        fmt::format("unknown action \"{}\" (expected SCMP_ACT_ALLOW, _ERRNO, _KILL_PROCESS, "
                                    "_KILL_THREAD, _KILL, _TRAP, _TRACE, _LOG or _NOTIFY)",
                                    s));
        out = *a;
        return true;
    }

    bool arch(const DocNode& n, std::string_view path, std::string& out) {
        if (!string(n, path, out)) return false;
        if (!is_known_scmp_arch(out))
            return fail(n, path,
                        fmt::format("unknown architecture \"{}\" (expected an SCMP_ARCH_* name such as "
                                    "SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64)",
                                    out));
        return true;
    }

    bool filter(const DocNode& n, std::string_view path, Filter& out) {
        if (n.kind == Kind::Null) return true;
        if (!expect(n, Kind::Object, path, "an object with caps, arches or minKernel")) return false;
        static constexpr std::string_view kKeys[] = {"caps", "arches", "minKernel"};
        if (!members(n, path, kKeys)) return false;
        if (auto* v = n.get("caps"); v && !strings(*v, fmt::format("{}.caps", path), out.caps)) return false;
        if (auto* v = n.get("arches"); v && !strings(*v, fmt::format("{}.arches", path), out.arches))
            return false;
        if (auto* v = n.get("minKernel")) {
            auto p = fmt::format("{}.minKernel", path);
            if (!string(*v, p, out.min_kernel)) return false;
            bool ok = !out.min_kernel.empty() &&
                      std::all_of(out.min_kernel.begin(), out.min_kernel.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
            if (!out.min_kernel.empty() && !ok)
                return fail(
                    *v, p,
                    fmt::format("expected a kernel version like \"5.8\", found \"{}\"", out.min_kernel));
        }
        return true;
    }

    bool arg(const DocNode& n, std::string_view path, ArgRule& out) {
        if (!expect(n, Kind::Object, path, "an object with index, value, op")) return false;
        static constexpr std::string_view kKeys[] = {"index", "value", "valueTwo", "op"};
        if (!members(n, path, kKeys)) return false;
        std::uint64_t v = 0;
        auto* index = n.get("index");
        auto* op = n.get("op");
        if (!index) return fail(n, path, "missing \"index\" (the argument's position, 0 to 5)");
        if (!op) return fail(n, path, "missing \"op\" (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)");
        if (!uint(*index, fmt::format("{}.index", path), 5, v)) return false;
        out.index = static_cast<std::uint32_t>(v);
        if (auto* value = n.get("value");
            value && !uint(*value, fmt::format("{}.value", path), UINT64_MAX, out.value))
            return false;
        if (auto* two = n.get("valueTwo");
            two && !uint(*two, fmt::format("{}.valueTwo", path), UINT64_MAX, out.value_two))
            return false;
        std::string s;
        if (!string(*op, fmt::format("{}.op", path), s)) return false;
        auto o = arg_op_from_name(s);
        if (!o)
            return fail(
                *op, fmt::format("{}.op", path),
                fmt::format("unknown operator \"{}\" (expected SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or "
                            "_MASKED_EQ)",
                            s));
        out.op = *o;
        return true;
    }

    bool rule(const DocNode& n, std::string_view path, SyscallRule& out) {
        if (!expect(n, Kind::Object, path, "an object with names and action")) return false;
        static constexpr std::string_view kKeys[] = {"names", "name",    "action",   "errnoRet",
                                                     "args",  "comment", "includes", "excludes"};
        if (!members(n, path, kKeys)) return false;
        auto* names = n.get("names");
        auto* name = n.get("name");
        if (names && !strings(*names, fmt::format("{}.names", path), out.names)) return false;
        if (name && name->kind != Kind::Null) {
            std::string single;
            if (!string(*name, fmt::format("{}.name", path), single)) return false;
            // Docker refuses a rule with both; it would be ambiguous which one was meant.
            if (!out.names.empty())
                return fail(*name, path, "has both \"name\" and \"names\": use \"names\" only");
            out.names.push_back(std::move(single));
        }
        for (std::size_t i = 0; i < out.names.size(); ++i) {
            const auto& s = out.names[i];
            auto p = fmt::format("{}.names[{}]", path, i);
            const DocNode& at = names && i < names->items.size() ? names->items[i] : n;
            bool well_formed = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            });
            if (!well_formed) return fail(at, p, fmt::format("\"{}\" is not a syscall name", s));
            if (!is_syscall_anywhere(s))
                warn(at, p,
                     fmt::format("unknown syscall \"{}\" on every architecture we know (runtimes skip it)",
                                 s));
        }
        auto* act = n.get("action");
        if (!act) return fail(n, path, "missing \"action\"");
        if (!action(*act, fmt::format("{}.action", path), out.action)) return false;
        if (auto* e = n.get("errnoRet"); e && e->kind != Kind::Null) {
            std::uint64_t v = 0;
            // seccomp's return data is 16 bits (SECCOMP_RET_DATA).
            if (!uint(*e, fmt::format("{}.errnoRet", path), 0xFFFF, v)) return false;
            out.errno_ret = static_cast<std::uint32_t>(v);
            if (!action_takes_errno(out.action))
                warn(*e, fmt::format("{}.errnoRet", path),
                     fmt::format("ignored: {} takes no errno", action_name(out.action)));
        }
        if (auto* a = n.get("args"); a && a->kind != Kind::Null) {
            if (!expect(*a, Kind::Array, fmt::format("{}.args", path), "a list of argument rules"))
                return false;
            for (std::size_t i = 0; i < a->items.size(); ++i) {
                ArgRule r;
                if (!arg(a->items[i], fmt::format("{}.args[{}]", path, i), r)) return false;
                out.args.push_back(r);
            }
        }
        if (auto* c = n.get("comment"); c && !string(*c, fmt::format("{}.comment", path), out.comment))
            return false;
        if (auto* f = n.get("includes"); f && !filter(*f, fmt::format("{}.includes", path), out.includes))
            return false;
        if (auto* f = n.get("excludes"); f && !filter(*f, fmt::format("{}.excludes", path), out.excludes))
            return false;
        return true;
    }

    bool profile(const DocNode& n, Profile& out) {
        if (n.kind != Kind::Object)
            return fail(
                n, "profile",
                fmt::format("expected an object with \"defaultAction\", found {}", kind_name(n.kind)));
        static constexpr std::string_view kKeys[] = {"defaultAction",    "defaultErrnoRet", "architectures",
                                                     "archMap",          "flags",           "listenerPath",
                                                     "listenerMetadata", "syscalls"};
        if (!members(n, "profile", kKeys)) return false;
        auto* def = n.get("defaultAction");
        if (!def) return fail(n, "profile", "missing \"defaultAction\" (e.g. \"SCMP_ACT_ERRNO\")");
        if (!action(*def, "defaultAction", out.default_action)) return false;
        if (auto* e = n.get("defaultErrnoRet"); e && e->kind != Kind::Null) {
            std::uint64_t v = 0;
            if (!uint(*e, "defaultErrnoRet", 0xFFFF, v)) return false;
            out.default_errno_ret = static_cast<std::uint32_t>(v);
        }
        if (auto* a = n.get("architectures"); a && a->kind != Kind::Null) {
            if (!expect(*a, Kind::Array, "architectures", "a list of SCMP_ARCH_* names")) return false;
            for (std::size_t i = 0; i < a->items.size(); ++i) {
                std::string s;
                if (!arch(a->items[i], fmt::format("architectures[{}]", i), s)) return false;
                out.architectures.push_back(std::move(s));
            }
        }
        if (auto* m = n.get("archMap"); m && m->kind != Kind::Null) {
            if (!expect(*m, Kind::Array, "archMap", "a list of {architecture, subArchitectures}"))
                return false;
            for (std::size_t i = 0; i < m->items.size(); ++i) {
                const DocNode& e = m->items[i];
                auto p = fmt::format("archMap[{}]", i);
                if (!expect(e, Kind::Object, p, "an object with architecture and subArchitectures"))
                    return false;
                static constexpr std::string_view kMapKeys[] = {"architecture", "subArchitectures"};
                if (!members(e, p, kMapKeys)) return false;
                ArchMapEntry entry;
                auto* main = e.get("architecture");
                if (!main) return fail(e, p, "missing \"architecture\"");
                if (!arch(*main, p + ".architecture", entry.arch)) return false;
                if (auto* subs = e.get("subArchitectures"); subs && subs->kind != Kind::Null) {
                    if (!expect(*subs, Kind::Array, p + ".subArchitectures", "a list of SCMP_ARCH_* names"))
                        return false;
                    for (std::size_t j = 0; j < subs->items.size(); ++j) {
                        std::string s;
                        if (!arch(subs->items[j], fmt::format("{}.subArchitectures[{}]", p, j), s))
                            return false;
                        entry.sub_arches.push_back(std::move(s));
                    }
                }
                out.arch_map.push_back(std::move(entry));
            }
        }
        if (auto* f = n.get("flags"); f && !strings(*f, "flags", out.flags)) return false;
        for (std::size_t i = 0; i < out.flags.size(); ++i)
            if (!is_known_filter_flag(out.flags[i]))
                return fail(
                    n.get("flags")->items[i], fmt::format("flags[{}]", i),
                    fmt::format("unknown flag \"{}\" (expected SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW "
                                "or _WAIT_KILLABLE_RECV)",
                                out.flags[i]));
        if (auto* v = n.get("listenerPath"); v && !string(*v, "listenerPath", out.listener_path))
            return false;
        if (auto* v = n.get("listenerMetadata"); v && !string(*v, "listenerMetadata", out.listener_metadata))
            return false;
        if (auto* s = n.get("syscalls"); s && s->kind != Kind::Null) {
            if (!expect(*s, Kind::Array, "syscalls", "a list of rules")) return false;
            for (std::size_t i = 0; i < s->items.size(); ++i) {
                SyscallRule r;
                if (!rule(s->items[i], fmt::format("syscalls[{}]", i), r)) return false;
                out.syscalls.push_back(std::move(r));
            }
        }
        return true;
    }

  private:
    std::vector<std::string>* warnings_;
    std::span<const std::string_view> skip_;
};

DocNode str(std::string_view s) {
    return DocNode::make(Kind::String, std::string(s));
}
DocNode num(std::uint64_t v) {
    return DocNode::make(Kind::Number, std::to_string(v));
}
DocNode str_list(const std::vector<std::string>& v) {
    DocNode a = DocNode::make(Kind::Array);
    for (const auto& s : v) a.items.push_back(str(s));
    return a;
}

DocNode encode_filter(const Filter& f) {
    DocNode o = DocNode::make(Kind::Object);
    if (!f.caps.empty()) o.add("caps", str_list(f.caps));
    if (!f.arches.empty()) o.add("arches", str_list(f.arches));
    if (!f.min_kernel.empty()) o.add("minKernel", str(f.min_kernel));
    return o;
}

}  // namespace

Result<Profile> decode_profile(const DocNode& root, std::vector<std::string>* warnings,
                               std::span<const std::string_view> skip_keys) {
    Decoder d(warnings, skip_keys);
    Profile p;
    if (!d.profile(root, p)) return *d.error;
    return p;
}

DocNode encode_profile(const Profile& p) {
    DocNode o = DocNode::make(Kind::Object);
    o.add("defaultAction", str(action_name(p.default_action)));
    if (p.default_errno_ret) o.add("defaultErrnoRet", num(*p.default_errno_ret));
    if (!p.architectures.empty()) o.add("architectures", str_list(p.architectures));
    if (!p.arch_map.empty()) {
        DocNode m = DocNode::make(Kind::Array);
        for (const auto& e : p.arch_map) {
            DocNode entry = DocNode::make(Kind::Object);
            entry.add("architecture", str(e.arch));
            // Docker writes null for none; keep its shape.
            entry.add("subArchitectures",
                      e.sub_arches.empty() ? DocNode::make(Kind::Null) : str_list(e.sub_arches));
            m.items.push_back(std::move(entry));
        }
        o.add("archMap", std::move(m));
    }
    if (!p.flags.empty()) o.add("flags", str_list(p.flags));
    if (!p.listener_path.empty()) o.add("listenerPath", str(p.listener_path));
    if (!p.listener_metadata.empty()) o.add("listenerMetadata", str(p.listener_metadata));
    if (!p.syscalls.empty()) {
        DocNode rules = DocNode::make(Kind::Array);
        for (const auto& r : p.syscalls) {
            DocNode rule = DocNode::make(Kind::Object);
            rule.add("names", str_list(r.names));
            rule.add("action", str(action_name(r.action)));
            if (r.errno_ret) rule.add("errnoRet", num(*r.errno_ret));
            if (!r.args.empty()) {
                DocNode args = DocNode::make(Kind::Array);
                for (const auto& a : r.args) {
                    DocNode arg = DocNode::make(Kind::Object);
                    arg.add("index", num(a.index));
                    arg.add("value", num(a.value));
                    if (a.value_two != 0) arg.add("valueTwo", num(a.value_two));
                    arg.add("op", str(arg_op_name(a.op)));
                    args.items.push_back(std::move(arg));
                }
                rule.add("args", std::move(args));
            }
            if (!r.comment.empty()) rule.add("comment", str(r.comment));
            if (!r.includes.empty()) rule.add("includes", encode_filter(r.includes));
            if (!r.excludes.empty()) rule.add("excludes", encode_filter(r.excludes));
            rules.items.push_back(std::move(rule));
        }
        o.add("syscalls", std::move(rules));
    }
    return o;
}

Result<Profile> read_profile_json(std::string_view text, std::vector<std::string>* warnings) {
    auto doc = parse_json_doc(text);
    if (!doc) return doc.error();
    return decode_profile(*doc, warnings);
}

std::string write_profile_json(const Profile& profile) {
    return write_json_doc(encode_profile(profile));
}

}  // namespace ksc
