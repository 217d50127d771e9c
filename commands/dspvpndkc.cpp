// DSPVPNDKC: Display Dynamic-Key Connection. One name shows the whole object; *ALL or a
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
    .name = "DSPVPNDKC",
    .title = "Display Dynamic-Key Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("CNN", "Dynamic-Key Connection")},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    const ObjectList what{"*DKC",
                          "Dynamic-key connections",
                          {{"name", "Connection"},
                           {"group", "Group"},
                           {"remote_key_server", "Remote key server"},
                           {"text", "Text"}}};
    return display_objects(
        inv.str("CNN"), inv.json(), what,
        [&](const std::string& n) { return db.load_connection(n); },
        [&] { return db.list_connections(); }, [](const auto& o) { return connection_panel(o); });
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
