// Helpers shared by the configuration commands: the policy database, common
// parameter definitions (so CRT and CHG commands of one object agree), and
// reading parameter values into the object model.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.hpp"
#include "core/cl/command.hpp"
#include "core/policy/model.hpp"
#include "core/policy/policy_db.hpp"

namespace qvpn::cmd {

using cl::ElemDef;
using cl::Invocation;
using cl::ParamDef;
using cl::Type;

// Create commands get defaults; change commands default every parameter to
// *SAME (keep the stored value).
enum class Form { Create, Change };

// The system's policy database, created with the state root if missing.
Result<policy::PolicyDb> open_db();

// Send `diag` and fail with CPF0001 (exit code 2), for parameter values that
// are each valid but do not fit together.
Failure param_error(const Invocation& inv, Msg diag);

// --- parameter definitions ---
ParamDef name_param(std::string kwd, std::string prompt, int positional = 1);
// A display command's object name: a name or *ALL (the default).
ParamDef display_name_param(std::string kwd, std::string prompt);
ParamDef text_param(Form f);
ParamDef choice_param(std::string kwd, std::string prompt, std::vector<std::string> choices,
                      Form f, std::string dft, std::string help = "");
ParamDef yesno_param(std::string kwd, std::string prompt, Form f, std::string dft,
                     std::string help = "");
ParamDef int_param(std::string kwd, std::string prompt, long long min, long long max,
                   std::vector<std::string> specials, Form f, std::string dft,
                   std::string help = "");
// (type value): key server identifiers.
ParamDef identity_param(std::string kwd, std::string prompt, bool allow_anyip, Form f);
// (type address mask-or-last): data endpoints; `key_server_special` adds
// *KEYSVR (the key server's own address) as a type.
ParamDef endpoint_param(std::string kwd, std::string prompt, Form f, std::string dft,
                        std::string key_server_special);
ParamDef key_transforms_param(std::string kwd, Form f, std::string dft);
ParamDef data_transforms_param(std::string kwd, Form f, std::string dft);
ParamDef lines_param(Form f);
ParamDef port_param(std::string kwd, std::string prompt, Form f);
ParamDef protocol_param(std::string kwd, Form f);

// --- reading values ---
// True when the parameter leaves its field as it is: *SAME (the default of
// change commands), or no value at all (a parameter without default).
bool keep(const Invocation& inv, std::string_view kwd);
bool yes(const Invocation& inv, std::string_view kwd);
template <class T>
T read_enum(const Invocation& inv, std::string_view kwd, T fallback) {
    auto v = policy::from_cl<T>(inv.str(kwd));
    return v ? *v : fallback;
}
Result<policy::Identity> read_identity(const Invocation& inv, std::string_view kwd);
// *KEYSVR gives the address of `key_server` (which must be an address).
Result<policy::DataEndpoint> read_endpoint(const Invocation& inv, std::string_view kwd,
                                           const policy::Identity& key_server);
// *DFT: the defaults' level; *HIGHEST/*BALANCED/*MINIMUM: that level.
Result<std::vector<policy::KeyTransform>> read_key_transforms(const Invocation& inv,
                                                              std::string_view kwd,
                                                              policy::SecurityLevel dft);
Result<std::vector<policy::DataTransform>> read_data_transforms(const Invocation& inv,
                                                                std::string_view kwd,
                                                                policy::SecurityLevel dft);
std::vector<std::string> read_lines(const Invocation& inv, std::string_view kwd);
int read_port(const Invocation& inv, std::string_view kwd);      // *ANY -> 0
int read_protocol(const Invocation& inv, std::string_view kwd);  // *ANY -> 0
// Seconds or minutes with *DFT -> `dft`, *NOMAX -> 0.
int read_number(const Invocation& inv, std::string_view kwd, int dft);

// --- text forms for displays ---
std::string identity_text(const policy::Identity& id);
std::string endpoint_text(const policy::DataEndpoint& ep);
std::string port_text(int port);
std::string protocol_text(int protocol);
std::string lifetime_text(int value);  // 0 -> *NOMAX

// Matches a name against *ALL, a generic name (HR*) or a full name.
bool name_matches(std::string_view pattern, std::string_view name);

}  // namespace qvpn::cmd
