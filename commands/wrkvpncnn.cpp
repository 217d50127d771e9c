// WRKVPNCNN: Work with VPN Connections. Lists every connection, dynamic-key
// and manual, with its status from the connection manager's state table.
// IBM i shows this list in IBM Navigator's Connections panel; here it is a
// printed list followed by the security associations the connection manager
// has installed (and with --json, every connection in full, live part
// included).
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/connections.hpp"
#include "commands/lib/live_status.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "WRKVPNCNN",
    .title = "Work with VPN Connections",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("CNN", "Connection"),
               {.kwd = "TYPE", .prompt = "Connection type", .type = Type::Special,
                .specials = {"*ALL", "*DYNAMIC", "*MANUAL"}, .dft = "*ALL"}},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    QVPN_ASSIGN(auto entries, list_connection_entries(db));
    std::string want = inv.str("CNN");
    Table t{{{"name", "Connection"},
             {"type", "Type"},
             {"state", "Status"},
             {"group", "Group"},
             {"remote", "Remote key server / endpoint"},
             {"text", "Text"}},
            {}};
    std::vector<Panel> full;
    for (const auto& e : entries) {
        if (!name_matches(want, e.name) ||
            (!inv.is("TYPE", "*ALL") && inv.str("TYPE") != to_cl(e.type))) {
            continue;
        }
        t.rows.push_back(connection_summary(e));
        if (inv.json()) {
            QVPN_ASSIGN(Panel p, connection_detail(db, e));
            full.push_back(std::move(p));
        }
    }
    if (t.rows.empty() && want != "*ALL") {
        return fail("CFG0026", "*CNN", want);
    }
    print_table("VPN connections", t, full, inv.json());
    if (!inv.json()) {
        print_live_sas([&](const std::string& name) { return name_matches(want, name); });
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
