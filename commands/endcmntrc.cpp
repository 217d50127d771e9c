// ENDCMNTRC: End Communications Trace. Stops the trace job of a line or
// network interface; the traced frames are kept for PRTCMNTRC.
#include "commands/lib/trace_params.hpp"
#include "core/cl/command.hpp"
#include "daemon/trace/trace_control.hpp"

using namespace qvpn;
using namespace qvpn::trace;

namespace {

const cl::CommandDef kDef{
    .name = "ENDCMNTRC",
    .title = "End Communications Trace",
    .authority = cl::Authority::Service,
    .params =
        {
            cmd::trace_cfgobj_param(),
            cmd::trace_cfgtype_param(),
        },
};

Status run(cl::Invocation& inv) {
    CfgType type = *cfgtype_from_cl(inv.str("CFGTYPE"));
    std::vector<Msg> diags;
    auto st = end_trace(type, inv.str("CFGOBJ"), TraceStore(), diags);
    for (const auto& d : diags) {
        inv.diagnostic(d);
    }
    if (!st.ok()) {
        return st.failure();
    }
    uint64_t kept = st->header ? st->header->ring.count : 0;
    uint64_t seen = st->header ? st->header->counters.seen : 0;
    uint64_t drops = st->header ? st->header->counters.kernel_drops : 0;
    inv.complete(msg("TRC0002", st->key.name, to_cl(type), kept, seen, drops));
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    return cl::run_main(kDef, run, argc, argv);
}
