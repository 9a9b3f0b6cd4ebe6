#ifndef KINDRED_CCURL_SHIM_H
#define KINDRED_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one
// wrapper per argument type.
static inline CURLcode kindred_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode kindred_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode kindred_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*kindred_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
static inline CURLcode kindred_curl_setopt_callback(CURL *handle, CURLoption option,
                                                    kindred_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode kindred_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
