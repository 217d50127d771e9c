// DSPVPNMNC: Display Manual Connection. One name shows the whole object; *ALL or a
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
    .name = "DSPVPNMNC",
    .title = "Display Manual Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("CNN", "Manual Connection")},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    const ObjectList what{"*MNC",
                          "Manual connections",
                          {{"name", "Connection"},
                           {"ipsec_protocol", "Protocol"},
                           {"remote_address", "Remote endpoint"},
                           {"text", "Text"}}};
    return display_objects(
        inv.str("CNN"), inv.json(), what,
        [&](const std::string& n) { return db.load_manual_connection(n); },
        [&] { return db.list_manual_connections(); },
        [](const auto& o) { return manual_panel(o); });
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
