// The release build's static libcurl on its own (tests/release/check-static-plugin --libcurl-probe):
// GET one URL, checking the server with the CA file given, and print the body and curl_version().
// It proves what the plugin's requests rely on (HTTPS with OpenSSL, names resolved by c-ares from
// /etc/hosts) in a FROM scratch container, whatever plugin verbs exist yet.
#include <curl/curl.h>
#include <stdio.h>

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: curl_probe URL CAFILE\n");
        return 2;
    }
    CURL* curl = curl_easy_init();
    if (!curl) return 2;
    curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(curl);
    printf("\n%s\n", curl_version());
    if (rc != CURLE_OK) fprintf(stderr, "curl_probe: %s\n", curl_easy_strerror(rc));
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? 0 : 1;
}
