#include "registry_session.h"

#include <doctest/doctest.h>

namespace ksc::registry {

TEST_CASE("registry session: an upload Location is resolved as HTTP says, relative or absolute") {
    const std::string base = "https://registry.example.com:5000/v2/team/app/blobs/uploads/";
    auto relative = resolve_url(base, "/v2/team/app/blobs/uploads/abc?_state=x%3Dy");
    REQUIRE(relative.ok());
    CHECK(*relative == "https://registry.example.com:5000/v2/team/app/blobs/uploads/abc?_state=x%3Dy");
    // Object storage or another front: a whole URL is taken as it is.
    auto absolute = resolve_url(base, "https://uploads.example.net/session/1");
    REQUIRE(absolute.ok());
    CHECK(*absolute == "https://uploads.example.net/session/1");
    auto sibling = resolve_url(base, "abc");
    REQUIRE(sibling.ok());
    CHECK(*sibling == "https://registry.example.com:5000/v2/team/app/blobs/uploads/abc");
}

}  // namespace ksc::registry
