// The .i3p parser: statements into a Document, INCLUDEs expanded in place.
//
// Errors carry their place ("file:line:col") as the first message value.
// After an error the parser skips to the next statement keyword and goes
// on, so one run reports every independent error (up to kMaxErrors).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "rules/model.hpp"

namespace qvpn::rules {

inline constexpr int kMaxIncludeDepth = 8;
inline constexpr size_t kMaxErrors = 100;
inline constexpr size_t kMaxFileBytes = 64u * 1024 * 1024;

// Where included files come from: the file system for LODIPFTR, memory
// for tests and the fuzz target.
class FileSource {
public:
    virtual ~FileSource() = default;
    // The identity of `path` named from a file in directory `dir` (for
    // cycle detection and messages): absolute and normalized, or "" when
    // the file does not exist.
    virtual std::string resolve(const std::string& path, const std::string& dir) = 0;
    virtual Result<std::string> read(const std::string& resolved) = 0;
};

class DiskFiles final : public FileSource {
public:
    std::string resolve(const std::string& path, const std::string& dir) override;
    Result<std::string> read(const std::string& resolved) override;
};

struct Parsed {
    Document doc;
    std::vector<Msg> errors;
    std::vector<Msg> warnings;
    bool ok() const { return errors.empty(); }
};

// Parse the file at `path` (and what it includes). Syntax only: names are
// resolved by check().
Parsed parse_file(const std::string& path, FileSource& files);
// Parse text given in memory as file `name`; INCLUDEs go to `files`.
Parsed parse_text(const std::string& name, std::string_view text, FileSource& files);

// Resolve addresses, services and protocols into each filter's Match and
// check what must hold before anything can be loaded (see rules/checks.cpp).
void check(Parsed& p);

// parse_file + check.
Parsed load_rules_file(const std::string& path, FileSource& files);

}  // namespace qvpn::rules
