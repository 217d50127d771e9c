// DLTLIND: Delete Line Description. Refused while a dynamic-key group or a
// manual connection names the line (PDB0110).
#include "commands/lib/cmdlib.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

const cl::CommandDef kDef{
    .name = "DLTLIND",
    .title = "Delete Line Description",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "LIND", .prompt = "Line description", .type = Type::Name, .max_len = 15,
                .required = true, .positional = 1}},
};

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    std::string name;
    QVPN_TRY(db.transaction([&]() -> Status {
        QVPN_ASSIGN(Line l, db.load_line(inv.str("LIND")));
        name = l.name;
        return db.delete_line(name);
    }));
    inv.complete(msg("CFG0022", "*LIND", name));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
