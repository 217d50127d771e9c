// In-memory rules files for the parser tests and the fuzz target.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "rules/parser.hpp"

namespace qvpn::rules::test {

class MemFiles final : public FileSource {
public:
    std::map<std::string, std::string> files;

    std::string resolve(const std::string& path, const std::string& dir) override {
        std::filesystem::path p(path);
        if (p.is_relative()) {
            p = std::filesystem::path(dir.empty() ? "/" : dir) / p;
        }
        std::string key = p.lexically_normal().string();
        return files.count(key) ? key : "";
    }
    Result<std::string> read(const std::string& resolved) override {
        auto it = files.find(resolved);
        if (it == files.end()) {
            return fail("QVP0004", resolved);
        }
        return it->second;
    }
};

}  // namespace qvpn::rules::test
