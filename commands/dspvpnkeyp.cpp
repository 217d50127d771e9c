// DSPVPNKEYP: Display Key Exchange Policy. One name shows the whole object; *ALL or a
// generic name (HR*) lists the matching objects (with --json: every object
// in full, as a JSON array).
#include "commands/lib/cmdlib.hpp"
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
    std::string want = inv.str("KEYPCY");
    bool generic = want == "*ALL" || (!want.empty() && want.back() == '*');
    if (!generic) {
        QVPN_ASSIGN(auto p, db.load_key_policy(want));
        print_panel(key_policy_panel(p), inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_key_policies());
    Table t{{{"name", "Policy"},
             {"remote_key_server", "Remote key server"},
             {"authentication", "Auth"},
             {"text", "Text"}},
            {}};
    std::vector<Panel> full;
    for (const auto& p : all) {
        if (name_matches(want, p.name)) {
            full.push_back(key_policy_panel(p));
            t.rows.push_back(full.back());
        }
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*KEYPCY", want);
    }
    print_table("Key exchange policies", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
