// DSPLIND: Display Line Description: the line names and their Linux
// interfaces.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/views.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DSPLIND",
    .title = "Display Line Description",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "LIND", .prompt = "Line description", .type = Type::Generic,
                .max_len = 15, .specials = {"*ALL"}, .dft = "*ALL", .positional = 1}},
    .display = true,
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string want = inv.str("LIND");
    if (want != "*ALL" && (want.empty() || want.back() != '*')) {
        QVPN_ASSIGN(Line l, db.load_line(want));
        print_panel(line_panel(l), inv.json());
        return {};
    }
    QVPN_ASSIGN(auto all, db.list_lines());
    Table t{{{"name", "Line"}, {"resource", "Interface"}, {"text", "Text"}}, {}};
    std::vector<Panel> full;
    for (const auto& l : all) {
        if (name_matches(want, l.name)) {
            full.push_back(line_panel(l));
            t.rows.push_back(full.back());
        }
    }
    if (full.empty() && want != "*ALL") {
        return fail("CFG0026", "*LIND", want);
    }
    print_table("Line descriptions", t, full, inv.json());
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
