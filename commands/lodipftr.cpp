// LODIPFTR: Load/Unload IP Filter. Loads the packet rules of a rules file
// (STMF), of the VPN configuration (INCVPN(*YES)) or both on one line or on
// all lines, or unloads them. See man/lodipftr.1 and rules/loader.hpp.
#include "core/cl/command.hpp"
#include "rules/loader.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "LODIPFTR",
    .title = "Load/Unload IP Filter",
    .authority = cl::Authority::IoSysCfg,
    .params = {
        {.kwd = "OPTION", .prompt = "Option", .type = cl::Type::Special,
         .specials = {"*LOAD", "*UNLOAD"}, .required = true, .positional = 1,
         .help = "*LOAD activates the rules, *UNLOAD removes them"},
        {.kwd = "LIND", .prompt = "Line description", .type = cl::Type::Name, .max_len = 15,
         .specials = {"*ALL"}, .required = true, .positional = 2,
         .help = "The line the rules are loaded on or unloaded from, or *ALL"},
        {.kwd = "STMF", .prompt = "Stream file", .type = cl::Type::Path, .max_len = 1024,
         .help = "The packet rules file (.i3p) to load"},
        {.kwd = "INCVPN", .prompt = "Include VPN rules", .type = cl::Type::Special,
         .specials = {"*NO", "*YES"}, .dft = "*NO",
         .help = "*YES also loads the rules generated from the VPN configuration"},
        {.kwd = "CHKLCKOUT", .prompt = "Check for lock-out", .type = cl::Type::Special,
         .specials = {"*NO", "*YES"}, .dft = "*NO",
         .help = "*YES refuses rules that would stop the session running this command"},
    },
};

Status run(cl::Invocation& inv) {
    rules::LoadOptions opt;
    opt.unload = inv.is("OPTION", "*UNLOAD");
    opt.line = inv.is("LIND", "*ALL") ? "*ALL" : inv.str("LIND");
    opt.stmf = inv.str("STMF");
    opt.incvpn = inv.is("INCVPN", "*YES");
    opt.check_lockout = inv.is("CHKLCKOUT", "*YES");
    std::vector<Msg> diags;
    Result<Msg> r = rules::lodipftr(opt, diags);
    for (const auto& d : diags) {
        inv.diagnostic(d);
    }
    if (!r.ok()) {
        return r.failure();
    }
    inv.complete(*r);
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
