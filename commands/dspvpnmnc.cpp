// DSPVPNMNC: Display Manual Connection. One name shows the whole object; *ALL or a
// generic name (HR*) lists the matching objects (with --json: every object
// in full, as a JSON array).
#include "commands/lib/cmdlib.hpp"
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
    std::string want = inv.str("CNN");
    bool generic = want == "*ALL" || (!want.empty() && want.back() == '*');
    if (!generic) {
        QVPN_ASSIGN(auto p, db.load_manual_connection(want));
        print_panel(manual_panel(p), inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_manual_connections());
    Table t{{{"name", "Connection"},
             {"ipsec_protocol", "Protocol"},
             {"remote_address", "Remote endpoint"},
             {"text", "Text"}},
            {}};
    std::vector<Panel> full;
    for (const auto& p : all) {
        if (name_matches(want, p.name)) {
            full.push_back(manual_panel(p));
            t.rows.push_back(full.back());
        }
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*MNC", want);
    }
    print_table("Manual connections", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
