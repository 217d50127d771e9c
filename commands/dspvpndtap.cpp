// DSPVPNDTAP: Display Data Policy. One name shows the whole object; *ALL or a
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
    .name = "DSPVPNDTAP",
    .title = "Display Data Policy",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("DTAPCY", "Data Policy")},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    const ObjectList what{"*DTAPCY",
                          "Data policies",
                          {{"name", "Policy"}, {"mode", "Mode"}, {"pfs", "PFS"}, {"text", "Text"}}};
    return display_objects(
        inv.str("DTAPCY"), inv.json(), what,
        [&](const std::string& n) { return db.load_data_policy(n); },
        [&] { return db.list_data_policies(); },
        [](const auto& o) { return data_policy_panel(o); });
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
