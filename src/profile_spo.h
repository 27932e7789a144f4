// The Security Profiles Operator's SeccompProfile resource (security-profiles-operator.x-k8s.io/v1;
// v1beta1 and v1alpha1 read too), in YAML (one or many documents, or a kubectl `List`) or JSON.
// Its spec is a subset of the OCI profile: no defaultErrnoRet (always EPERM), no archMap, no
// includes/excludes, no comments; errnoRet 0 means unset. Writing refuses what the subset cannot
// hold rather than change a profile's meaning.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "doc_node.h"
#include "profile.h"
#include "result.h"

namespace ksc {

inline constexpr std::string_view kSpoApiVersion = "security-profiles-operator.x-k8s.io/v1";

struct SeccompProfileDoc {
    std::string api_version{kSpoApiVersion};
    std::string name;
    std::string namespace_name;  // empty: cluster-scoped (v1); older releases were namespaced
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<std::pair<std::string, std::string>> annotations;
    // Another SeccompProfile whose syscalls SPO unions into this one ("oci://..." for an artifact).
    // Kept as read; profile_io resolves it when the base is at hand as a file.
    std::string base_profile_name;
    bool disabled = false;
    Profile profile;
};

// True when a parsed document is a SeccompProfile (or a List of them), not an OCI profile.
bool is_seccomp_profile_doc(const DocNode& root);

// Every SeccompProfile in the documents; other kinds are skipped with a warning.
Result<std::vector<SeccompProfileDoc>> decode_seccomp_profiles(const std::vector<DocNode>& docs,
                                                               std::vector<std::string>* warnings);
// YAML or JSON text.
Result<std::vector<SeccompProfileDoc>> read_seccomp_profiles(std::string_view text,
                                                             std::vector<std::string>* warnings = nullptr);

// Fails when the profile holds what a SeccompProfile cannot say (see above); warnings for what is
// dropped without changing meaning (comments).
Result<DocNode> encode_seccomp_profile(const SeccompProfileDoc& doc, std::vector<std::string>* warnings);
// Several profiles become one multi-document YAML.
Result<std::string> write_seccomp_profiles_yaml(const std::vector<SeccompProfileDoc>& docs,
                                                std::vector<std::string>* warnings = nullptr);
Result<std::string> write_seccomp_profile_json(const SeccompProfileDoc& doc,
                                               std::vector<std::string>* warnings = nullptr);

// A Kubernetes object name (RFC 1123 subdomain) made from free text: "My App!" -> "my-app".
std::string to_object_name(std::string_view text);

}  // namespace ksc
