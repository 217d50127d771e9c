// DSPVPNCNN: Display VPN Connection: a connection's attributes, the key
// exchange policy the lookup chooses for its remote key server, and its
// status (state, since when, last error) from the connection manager.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/connections.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPVPNCNN",
    .title = "Display VPN Connection",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("CNN", "Connection")},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_ASSIGN(auto entries, list_connection_entries(db));
    std::string want = inv.str("CNN");
    bool generic = want == "*ALL" || (!want.empty() && want.back() == '*');
    std::vector<Panel> panels;
    for (const auto& e : entries) {
        if (name_matches(want, e.name)) {
            QVPN_ASSIGN(Panel p, connection_detail(db, e));
            panels.push_back(std::move(p));
        }
    }
    if (!generic) {
        if (panels.empty()) {
            return fail("PDB010D", want);
        }
        print_panel(panels.front(), inv.json());
        return {};
    }
    if (panels.empty() && want != "*ALL") {
        return fail("CFG0026", "*CNN", want);
    }
    print_panels(panels, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
