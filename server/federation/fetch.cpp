#include "server/federation/fetch.hpp"

#include <curl/curl.h>

#include <memory>

namespace latchkey::server::federation {

namespace {
struct easy_deleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

struct sink {
    std::string* body;
    bool overflow = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
    auto* s = static_cast<sink*>(user);
    std::size_t const len = size * n;
    if (s->body->size() + len > api::federation::max_fetch_bytes) {
        s->overflow = true;
        return 0;  // aborts the transfer
    }
    s->body->append(data, len);
    return len;
}
}  // namespace

api::federation::fetch_reply curl_fetcher::fetch(conf::oauth_provider const& p,
                                                 api::federation::fetch_request const& r) {
    api::federation::fetch_reply out;
    std::unique_ptr<CURL, easy_deleter> h(curl_easy_init());
    if (!h) {
        out.error = "curl_easy_init failed";
        return out;
    }
    char errbuf[CURL_ERROR_SIZE] = {};
    sink s{&out.body};
    CURL* const c = h.get();
    curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(p.timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(p.timeout.count()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, p.allow_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(api::federation::max_fetch_bytes));
    if (!p.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, p.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    std::string const accept = "Accept: " + r.accept;
    std::unique_ptr<curl_slist, slist_deleter> headers(curl_slist_append(nullptr, accept.c_str()));
    // GitHub's API refuses requests without a User-Agent.
    // (Appending to a non-empty list returns that list, or null leaving it unchanged.)
    if (headers) curl_slist_append(headers.get(), "User-Agent: latchkey");
    std::string const auth = r.bearer.empty() ? std::string() : "Authorization: Bearer " + r.bearer;
    if (headers && !auth.empty()) curl_slist_append(headers.get(), auth.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (r.post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.form.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.form.size()));
    }
    if (!r.basic_user.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, r.basic_user.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, r.basic_password.c_str());
    }
    auto const rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        out.error = s.overflow ? "answer too large" : (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        out.body.clear();
        return out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    return out;
}

}  // namespace latchkey::server::federation
