#include "rules/nft.hpp"

#include <nftables/libnftables.h>

#include <nlohmann/json.hpp>

#include "rules/compile.hpp"

namespace qvpn::rules {

namespace {

// The first lines of an nft error (the message and the offending line).
std::string first_lines(const char* text, int n) {
    std::string s = text ? text : "";
    size_t pos = 0;
    for (int i = 0; i < n && pos != std::string::npos; ++i) {
        pos = s.find('\n', pos == 0 ? 0 : pos + 1);
    }
    if (pos != std::string::npos) {
        s.resize(pos);
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s.empty() ? "no error text" : s;
}

}  // namespace

Nft::Nft() {
    ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx_ != nullptr) {
        nft_ctx_buffer_output(ctx_);
        nft_ctx_buffer_error(ctx_);
    }
}

Nft::~Nft() {
    if (ctx_ != nullptr) {
        nft_ctx_free(ctx_);
    }
}

Status Nft::run(const std::string& script) {
    if (ctx_ == nullptr) {
        return fail("NFT0101", "cannot create a libnftables context");
    }
    nft_ctx_output_set_flags(ctx_, 0);
    if (nft_run_cmd_from_buffer(ctx_, script.c_str()) != 0) {
        return fail("NFT0101", first_lines(nft_ctx_get_error_buffer(ctx_), 3));
    }
    return {};
}

Result<std::string> Nft::list_json() {
    if (ctx_ == nullptr) {
        return fail("NFT0102", std::string("inet ") + kTable,
                    "cannot create a libnftables context");
    }
    // Probe first: listing a missing table is an error we do not want to
    // confuse with a real failure.
    nft_ctx_output_set_flags(ctx_, NFT_CTX_OUTPUT_JSON);
    if (nft_run_cmd_from_buffer(ctx_, "list tables inet") != 0) {
        return fail("NFT0102", std::string("inet ") + kTable,
                    first_lines(nft_ctx_get_error_buffer(ctx_), 2));
    }
    auto tables = nlohmann::json::parse(nft_ctx_get_output_buffer(ctx_), nullptr, false);
    bool found = false;
    if (tables.is_object() && tables.contains("nftables") && tables["nftables"].is_array()) {
        for (const auto& item : tables["nftables"]) {
            if (item.contains("table") && item["table"].value("name", "") == kTable) {
                found = true;
            }
        }
    }
    if (!found) {
        return std::string();
    }
    if (nft_run_cmd_from_buffer(ctx_, "list table inet qvpn") != 0) {
        return fail("NFT0102", std::string("inet ") + kTable,
                    first_lines(nft_ctx_get_error_buffer(ctx_), 2));
    }
    return std::string(nft_ctx_get_output_buffer(ctx_));
}

bool Nft::has_chain(const std::string& chain) {
    if (ctx_ == nullptr) {
        return false;
    }
    nft_ctx_output_set_flags(ctx_, 0);
    std::string cmd = "list chain inet " + std::string(kTable) + " " + chain;
    return nft_run_cmd_from_buffer(ctx_, cmd.c_str()) == 0;
}

}  // namespace qvpn::rules
