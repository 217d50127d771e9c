// DSPVPNKEYP: Display Key Exchange Policy. One name shows the whole object; *ALL or a
// generic name (HR*) lists the matching objects (with --json: every object
// in full, as a JSON array).
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/object_display.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPVPNKEYP",
    .title = "Display Key Exchange Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("KEYPCY", "Key Exchange Policy")},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    const ObjectList what{"*KEYPCY",
                          "Key exchange policies",
                          {{"name", "Policy"},
                           {"remote_key_server", "Remote key server"},
                           {"authentication", "Auth"},
                           {"text", "Text"}}};
    return display_objects(
        inv.str("KEYPCY"), inv.json(), what,
        [&](const std::string& n) { return db.load_key_policy(n); },
        [&] { return db.list_key_policies(); }, [](const auto& o) { return key_policy_panel(o); });
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
