// DLTCMNTRC: Delete Communications Trace. Removes an ended trace and frees
// its buffer from the QCMNTRCMAX sum.
#include "core/cl/command.hpp"
#include "daemon/trace/trace_control.hpp"

using namespace qvpn;
using namespace qvpn::trace;

namespace {

const cl::CommandDef kDef{
    .name = "DLTCMNTRC",
    .title = "Delete Communications Trace",
    .authority = cl::Authority::Service,
    .params =
        {
            {.kwd = "CFGOBJ",
             .prompt = "Configuration object",
             .type = cl::Type::Name,
             .max_len = 15,
             .required = true,
             .positional = 1},
            {.kwd = "CFGTYPE",
             .prompt = "Type",
             .type = cl::Type::Special,
             .specials = {"*LIN", "*NWI", "*NWS"},
             .required = true,
             .positional = 2},
        },
};

Status run(cl::Invocation& inv) {
    CfgType type = *cfgtype_from_cl(inv.str("CFGTYPE"));
    QVPN_TRY(delete_trace(type, inv.str("CFGOBJ"), TraceStore()));
    inv.complete(msg("TRC0003", key_for(type, inv.str("CFGOBJ")).name, to_cl(type)));
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    return cl::run_main(kDef, run, argc, argv);
}
