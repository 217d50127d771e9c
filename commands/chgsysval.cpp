// CHGSYSVAL: Change System Value, for the system values qvpn keeps
// (QRETSVRSEC, QVPNDTAPTH, QVPNJRNRET, QCMNTRCMAX). Setting QRETSVRSEC to '0'
// erases every stored preshared and manual key (PDB0016).
#include "commands/lib/cmdlib.hpp"
#include "core/base/text.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

std::vector<std::string> names() {
    std::vector<std::string> v;
    for (const auto& d : system_value_defs()) {
        v.emplace_back(d.name);
    }
    return v;
}

const cl::CommandDef kDef{
    .name = "CHGSYSVAL",
    .title = "Change System Value",
    .authority = cl::Authority::IoSysCfg,
    .params = {{.kwd = "SYSVAL", .prompt = "System value", .type = Type::Generic, .max_len = 10,
                .required = true, .positional = 1,
                .help = "QRETSVRSEC, QVPNDTAPTH, QVPNJRNRET or QCMNTRCMAX"},
               {.kwd = "VALUE", .prompt = "New value", .type = Type::Char, .max_len = 20,
                .specials = {"*AUTO", "*KERNEL", "*USERSPACE"}, .required = true,
                .positional = 2, .help = "'0' or '1', *AUTO/*KERNEL/*USERSPACE, a number"}},
};

Status run(cl::Invocation& inv) {
    std::string name = to_upper(inv.str("SYSVAL"));
    bool known = false;
    for (const auto& n : names()) {
        known = known || n == name;
    }
    if (!known) {
        return param_error(inv, msg("PDB0020", name));
    }
    auto value = normalize_system_value(name, inv.str("VALUE"));
    if (!value.ok()) {
        Msg m = value.error();
        if (m.values.size() > 1) {
            m.values[1] = "VALUE";
        }
        return param_error(inv, m);
    }
    QVPN_ASSIGN(PolicyDb db, open_db());
    int erased = 0;
    QVPN_TRY(db.set_system_value(name, *value, &erased));
    if (name == kQRETSVRSEC && *value == "0") {
        inv.diagnostic(msg("PDB0016", erased));
    }
    inv.complete(msg("CFG0025", name, *value));
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
