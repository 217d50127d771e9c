// DSPLIND: Display Line Description: the line names and their Linux
// interfaces.
#include "commands/lib/cmdlib.hpp"
#include "commands/lib/object_display.hpp"
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
    const ObjectList what{"*LIND",
                          "Line descriptions",
                          {{"name", "Line"}, {"resource", "Interface"}, {"text", "Text"}}};
    return display_objects(
        inv.str("LIND"), inv.json(), what, [&](const std::string& n) { return db.load_line(n); },
        [&] { return db.list_lines(); }, [](const auto& o) { return line_panel(o); });
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
