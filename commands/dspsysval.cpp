// DSPSYSVAL: Display System Value, one or all of those qvpn keeps.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"
#include "core/base/text.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPSYSVAL",
    .title = "Display System Value",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "SYSVAL", .prompt = "System value", .type = Type::Generic, .max_len = 10,
                .specials = {"*ALL"}, .dft = "*ALL", .positional = 1}},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string want = to_upper(inv.str("SYSVAL"));
    std::vector<Panel> rows;
    for (const auto& d : system_value_defs()) {
        if (want != "*ALL" && want != d.name) {
            continue;
        }
        QVPN_ASSIGN(std::string v, db.system_value(d.name));
        rows.push_back(Panel()
                           .add("name", "System value", std::string(d.name))
                           .add("value", "Current value", v)
                           .add("default", "Shipped value", std::string(d.default_value))
                           .add("description", "Description", std::string(d.description)));
    }
    if (rows.empty()) {
        return fail("PDB0020", want);
    }
    if (want != "*ALL") {
        print_panel(rows.front(), inv.json());
        return {};
    }
    Table t{{{"name", "System value"}, {"value", "Value"}, {"description", "Description"}},
            rows};
    print_table("System values", t, rows, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
