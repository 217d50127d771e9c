// DSPVPNDTAP: Display Data Policy. One name shows the whole object; *ALL or a
// generic name (HR*) lists the matching objects (with --json: every object
// in full, as a JSON array).
#include "commands/lib/cmdlib.hpp"
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
    std::string want = inv.str("DTAPCY");
    bool generic = want == "*ALL" || (!want.empty() && want.back() == '*');
    if (!generic) {
        QVPN_ASSIGN(auto p, db.load_data_policy(want));
        print_panel(data_policy_panel(p), inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_data_policies());
    Table t{{{"name", "Policy"},
             {"mode", "Mode"},
             {"pfs", "PFS"},
             {"text", "Text"}},
            {}};
    std::vector<Panel> full;
    for (const auto& p : all) {
        if (name_matches(want, p.name)) {
            full.push_back(data_policy_panel(p));
            t.rows.push_back(full.back());
        }
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*DTAPCY", want);
    }
    print_table("Data policies", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
