// DLTCMNTRC: Delete Communications Trace. Removes an ended trace and frees
// its buffer from the QCMNTRCMAX sum.
#include "commands/lib/trace_params.hpp"
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
            cmd::trace_cfgobj_param(),
            cmd::trace_cfgtype_param(),
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
