// What a failed request's answer says: the API server's `Status` object (reason, message, the
// validation causes) or, where it sent none, the bare HTTP status; and that as one line for the user.
#pragma once

#include <string>
#include <vector>

namespace ksc::kube {

struct Response;

// What a failed request's `Status` object (or a bare HTTP error) says.
struct ApiStatus {
    long code = 0;
    std::string reason;               // "NotFound", "Forbidden", "Invalid", ...
    std::string message;              // the server's own words
    std::vector<std::string> causes;  // details.causes[].message (validation errors)
};
ApiStatus api_status(const Response& response);

// The status as one line: the server's message and causes (a 401 adds what to do).
std::string describe_status(const ApiStatus& st);

}  // namespace ksc::kube
