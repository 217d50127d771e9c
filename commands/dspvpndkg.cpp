// DSPVPNDKG: Display Dynamic-Key Group. The list is in search order: the
// first group serving a remote key server identifier is the one VPN uses.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPVPNDKG",
    .title = "Display Dynamic-Key Group",
    .authority = cl::Authority::IoSysCfg,
    .params = {display_name_param("DKG", "Dynamic-key group")},
    .display = true,
};

Panel with_connections(PolicyDb& db, const DynamicGroup& g, Status& st) {
    Panel p = group_panel(g);
    auto conns = db.list_connections(g.name);
    if (!conns.ok()) {
        st = conns.failure();
        return p;
    }
    std::vector<std::string> names;
    for (const auto& c : *conns) {
        names.push_back(c.name);
    }
    p.add_list("connections", "Connections", names);
    return p;
}

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string want = inv.str("DKG");
    Status st;
    if (want != "*ALL" && (want.empty() || want.back() != '*')) {
        QVPN_ASSIGN(DynamicGroup g, db.load_group(want));
        Panel p = with_connections(db, g, st);
        QVPN_TRY(st);
        print_panel(p, inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_groups());
    Table t{{{"position", "Pos"},
             {"name", "Group"},
             {"role", "Role"},
             {"data_policy", "Data policy"},
             {"remote_key_servers_text", "Remote key servers"}},
            {}};
    std::vector<Panel> full;
    for (const auto& g : all) {
        if (!name_matches(want, g.name)) {
            continue;
        }
        full.push_back(with_connections(db, g, st));
        QVPN_TRY(st);
        std::vector<std::string> rks;
        for (const auto& id : g.remote_key_servers) {
            rks.push_back(identity_text(id));
        }
        Panel row = full.back();
        row.add_list("remote_key_servers_text", "Remote key servers", rks);
        t.rows.push_back(std::move(row));
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*DKG", want);
    }
    print_table("Dynamic-key groups, in search order", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
