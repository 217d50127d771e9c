// Command definitions and the main() every CL command executable shares.
//
// A command is declared as data (CommandDef), the way IBM i declares one with
// CMD/PARM/ELEM statements. The framework then accepts every input form:
//
//   STRVPNCNN 'CNN(HRgw2FINgw)' WAIT(60)        words, one parameter each
//   STRVPNCNN HRgw2FINgw                         positional values
//   STRVPNCNN --cnn=HRgw2FINgw --wait=60         program options
//   system "STRVPNCNN CNN(HRgw2FINgw)"           the runner, one string
//   STRVPNCNN ?   |   STRVPNCNN --help           the prompt
//
// and checks every value against the definition before the handler runs.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/cl/value.hpp"

namespace qvpn::cl {

enum class Type {
    Char,     // any text (quote it when it has blanks)
    Name,     // object name: letter/digit first, then letters, digits, _-.:$#@
    Int,      // decimal integer, range min..max when given
    Path,     // path name
    Addr,     // IPv4 or IPv6 address
    Hex,      // hexadecimal string
    Special,  // only the listed special values
    Generic,  // any single word, checked by the handler
};

// One element of an element-list parameter, e.g. LCLKEYSVR(type value).
struct ElemDef {
    std::string prompt;
    Type type = Type::Char;
    size_t max_len = 0;
    long long min = 0, max = 0;          // range for Int (both 0: no range)
    std::vector<std::string> specials;   // allowed special values
    std::string dft;                     // default (CL text); "" = none
    bool required = false;
};

// Designated initializers must follow this field order:
//   kwd, prompt, type, max_len, min, max, specials, single, dft, required,
//   positional, max_count, elements, help
struct ParamDef {
    std::string kwd;                     // KEYWORD, upper case
    std::string prompt;                  // short description
    Type type = Type::Char;
    size_t max_len = 0;
    long long min = 0, max = 0;
    std::vector<std::string> specials;   // allowed special values
    std::vector<std::string> single;     // special values allowed only alone
    std::string dft;                     // default (CL text); "" = none
    bool required = false;
    int positional = 0;                  // position 1..n, 0 = keyword only
    int max_count = 1;                   // >1: a list of up to max_count items
    std::vector<ElemDef> elements;       // non-empty: each item is an element list
    std::string help;                    // one more line for the prompt
};

enum class Authority {
    None,       // anyone may run it
    IoSysCfg,   // root or group qvpnadm (IBM i *IOSYSCFG); else TCP8050
    Service,    // root or group qvpnsvc (IBM i *SERVICE); else CPF39A8
};

struct CommandDef {
    std::string name;      // STRVPNCNN
    std::string title;     // Start VPN Connection
    Authority authority = Authority::None;
    std::vector<ParamDef> params;
    bool display = false;  // display command: accepts OUTPUT(*JSON) and --json
};

// Exit codes of every command (documented in qvpn(7)).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,       // escape message: the request failed
    kExitParameters = 2,   // parameter or syntax errors (CPF0001)
    kExitAuthority = 3,    // not authorized (TCP8050, CPF39A8)
};

// A validated command: every parameter has its value or its default.
class Invocation {
public:
    Invocation(const CommandDef& def, std::map<std::string, Value> values,
               std::map<std::string, bool> specified, bool json, bool explain);

    const CommandDef& def() const { return *def_; }
    bool specified(std::string_view kwd) const;
    // The value (default filled in). An optional parameter without default
    // gives an empty Value.
    const Value& get(std::string_view kwd) const;
    // Atom text of a scalar parameter ("" if none).
    std::string str(std::string_view kwd) const;
    long long integer(std::string_view kwd, long long fallback = 0) const;
    // True when the scalar value is the special value `special` (*ALL).
    bool is(std::string_view kwd, std::string_view special) const;
    // Items of a list parameter (a scalar gives one item).
    std::vector<Value> list(std::string_view kwd) const;

    bool json() const { return json_; }
    void set_json(bool j) { json_ = j; }
    bool explain() const { return explain_; }

    // Completion message on stdout: "ID: text".
    void complete(const Msg& m) const;
    // Informational or diagnostic message (stderr), printed before an escape.
    void diagnostic(const Msg& m) const;

private:
    const CommandDef* def_;
    std::map<std::string, Value> values_;
    std::map<std::string, bool> specified_;
    bool json_ = false;
    bool explain_ = false;
};

// The handler returns a failure to send an escape message (exit 1).
using Handler = std::function<Status(Invocation&)>;

// Check words against a definition. On failure the diagnostics (CPD...) are
// in `diags` and the result is CPF0001.
Result<Invocation> validate(const CommandDef& def, const CommandLine& line, bool json,
                            bool explain, std::vector<Msg>& diags);

// Turn argv (after the program name) into CL parameter text: positional
// words are kept, --kwd=value options become KWD(value). Flags are reported
// through the out parameters. Fails with CPD0043 on an unknown option.
struct ArgvFlags {
    bool help = false;
    bool json = false;
    bool explain = false;
    bool keywords = false;  // --keywords: list keywords (used by the tests)
};
Result<std::string> argv_to_cl(const CommandDef& def, int argc, char** argv, ArgvFlags& flags);

// The prompt: keywords, choices, defaults, required/positional notes.
std::string prompt_text(const CommandDef& def);

// Does the caller hold the authority? (root, or member of the group)
bool has_authority(Authority a);

// Print a message the IBM way on `out`: "ID: first-level text", and the
// second-level text too when explain is set.
void print_message(std::FILE* out, const Msg& m, bool explain, bool json);

// main() of a command executable.
int run_main(const CommandDef& def, const Handler& handler, int argc, char** argv);

}  // namespace qvpn::cl
