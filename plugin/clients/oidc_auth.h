// The oidc auth-provider of kubeconfig users (client-go's plugin/pkg/client/auth/oidc): the
// id-token is sent as a bearer token while its JWT `exp` is more than 10 s away; when it has
// expired (or is missing) and there is a refresh-token, a new one is fetched from the issuer's
// token endpoint (found through its OpenID discovery document) and written back to the kubeconfig
// file the user came from, as kubectl does.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace ksc::kube {

// users[].user.auth-provider (name: oidc).config, as read from the kubeconfig.
struct OidcConfig {
    std::string issuer_url;  // idp-issuer-url
    std::string client_id, client_secret;
    std::string id_token, refresh_token;
    std::string ca_file;  // idp-certificate-authority (as written: client-go resolves no path)
    std::string ca_pem;   // idp-certificate-authority-data, decoded; wins over ca_file
    // Where new tokens are written back: the file the user entry came from, and its name there.
    std::string kubeconfig_file;
    std::string user_name;
};

// The `exp` claim of a JWT (header.payload.signature, the payload unpadded base64url JSON; an
// integer or a fraction of Unix seconds, as client-go reads it). No `exp` reads as the epoch
// (expired), as in client-go. The signature is not checked: the API server does that.
Result<std::chrono::system_clock::time_point> jwt_expiry(std::string_view jwt);

// The token_endpoint of an OpenID discovery document.
Result<std::string> parse_oidc_discovery(std::string_view json);

// A token endpoint's answer to a refresh: JSON, or a form when `content_type` says so (as
// golang.org/x/oauth2 reads it). access_token is required (oauth2 refuses an answer without
// it); id_token may be missing (then empty: the caller fails, as client-go does).
struct OidcTokens {
    std::string access_token, id_token, refresh_token;
};
Result<OidcTokens> parse_oidc_token_answer(std::string_view body, std::string_view content_type);

// Replaces the auth-provider config's id-token (and refresh-token, when not empty) of `user_name`
// in `file`, keeping the rest of the file (comments aside, which kubectl drops too); written to
// a temporary file in the same directory with the same mode, then renamed over it.
Status write_back_oidc_tokens(const std::string& file, const std::string& user_name,
                              const std::string& id_token, const std::string& refresh_token);

// The id-token to send: `config`'s while valid (and not `force`d, after a 401), else a
// refreshed one (written back to the kubeconfig, and into `config`). Requests to the issuer
// take at most `timeout` each.
Result<std::string> oidc_id_token(
    OidcConfig& config, bool force, std::chrono::milliseconds timeout,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace ksc::kube
