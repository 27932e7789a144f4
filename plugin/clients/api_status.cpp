#include "api_status.h"

#include <rapidjson/document.h>

#include "api_client.h"
#include "bounded_json.h"
#include "http_text.h"

namespace ksc::kube {

ApiStatus api_status(const Response& response) {
    ApiStatus st;
    st.code = response.status;
    rapidjson::Document doc;
    const bool doc_parsed = static_cast<bool>(parse_bounded_json(doc, response.body));
    if (doc_parsed && doc.IsObject() && json_string(doc, "kind") == "Status") {
        st.reason = json_string(doc, "reason");
        st.message = json_string(doc, "message");
        if (auto code = doc.FindMember("code"); code != doc.MemberEnd() && code->value.IsInt())
            st.code = code->value.GetInt();
        if (auto details = doc.FindMember("details"); details != doc.MemberEnd() && details->value.IsObject())
            if (auto causes = details->value.FindMember("causes");
                causes != details->value.MemberEnd() && causes->value.IsArray())
                for (const auto& c : causes->value.GetArray()) {
                    std::string m = json_string(c, "message");
                    std::string f = json_string(c, "field");
                    if (!m.empty()) st.causes.push_back(f.empty() ? m : f + ": " + m);
                }
    } else {
        std::string body = trim(response.body);
        if (body.size() < 300 && body.find('\n') == std::string::npos) st.message = body;
    }
    if (st.reason.empty()) {
        switch (st.code) {
            case 401:
                st.reason = "Unauthorized";
                break;
            case 403:
                st.reason = "Forbidden";
                break;
            case 404:
                st.reason = "NotFound";
                break;
            case 409:
                st.reason = "Conflict";
                break;
            case 422:
                st.reason = "Invalid";
                break;
            case 429:
                st.reason = "TooManyRequests";
                break;
            default:
                break;
        }
    }
    return st;
}

std::string describe_status(const ApiStatus& st) {
    std::string msg = st.message.empty() ? "the API server answered HTTP " + std::to_string(st.code) +
                                               (st.reason.empty() ? "" : " (" + st.reason + ")")
                                         : st.message;
    for (const auto& c : st.causes)
        if (msg.find(c) == std::string::npos) msg += "; " + c;
    if (st.code == 401)
        msg += ": your credentials were refused; log in again (or check the kubeconfig's user)";
    return msg;
}

}  // namespace ksc::kube
