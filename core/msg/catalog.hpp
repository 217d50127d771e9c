// The message catalog: qvpn's equivalent of an IBM i message file.
//
// Every message an operator can see is defined once, in a *.msgf file beside
// the subsystem that sends it. The build joins all *.msgf files into one
// catalog compiled into every executable and installed as
// share/qvpn/qvpn.msgf. File format (one block per message):
//
//   MSG  TCP8050
//   SEV  40
//   TEXT *IOSYSCFG authority required to use &1.
//   CAUSE The command changes ... (second level: cause)
//   RECOVERY Run the command as root or ... (second level: recovery)
//
// A line starting with blanks continues the previous field; '#' starts a
// comment line. IDs are 3 letters and 4 hex digits. Severity is IBM's scale:
// 00 information, 10 warning, 20 error, 30 severe, 40 abnormal end.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"

namespace qvpn::msgcat {

struct MessageDef {
    std::string id;
    int severity = 0;
    std::string text;      // first level, with &1 ... &n
    std::string cause;     // second level
    std::string recovery;  // second level
};

class Catalog {
public:
    // Parse catalog text; problems (duplicate ID, bad ID, missing TEXT) are
    // returned as "file:line: reason" strings and the bad block is skipped.
    static Catalog parse(std::string_view text, std::vector<std::string>* problems = nullptr);

    const MessageDef* find(std::string_view id) const;
    const std::map<std::string, MessageDef, std::less<>>& all() const { return defs_; }

private:
    std::map<std::string, MessageDef, std::less<>> defs_;
};

// The catalog compiled into this executable.
const Catalog& builtin();

bool valid_id(std::string_view id);

// Replace &1..&n in `text` with values (missing values become empty).
std::string substitute(std::string_view text, const std::vector<std::string>& values);

// First-level text of a message instance. Unknown IDs still print something
// useful (the ID and its values) rather than nothing.
std::string first_level(const Msg& m);
std::string cause(const Msg& m);
std::string recovery(const Msg& m);
int severity(const Msg& m);

// "TCP8050: *IOSYSCFG authority required to use STRVPNCNN."
std::string line(const Msg& m);

}  // namespace qvpn::msgcat
