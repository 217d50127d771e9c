// STRCMNTRC: Start Communications Trace. Starts the resident trace job
// QSCCMNTRC on the interface of a line (*LIN) or network interface (*NWI);
// the job keeps tracing after this command ends.
#include <cstdio>

#include "core/base/paths.hpp"
#include "commands/lib/trace_params.hpp"
#include "core/cl/command.hpp"
#include "daemon/trace/trace_control.hpp"

using namespace qvpn;
using namespace qvpn::trace;

namespace {

const cl::CommandDef kDef{
    .name = "STRCMNTRC",
    .title = "Start Communications Trace",
    .authority = cl::Authority::Service,
    .params =
        {
            cmd::trace_cfgobj_param(),
            cmd::trace_cfgtype_param(),
            {.kwd = "MAXSTG",
             .prompt = "Buffer size",
             .type = cl::Type::Generic,
             .max_len = 8,
             .specials = {"*MIN", "*MAX"},
             .dft = "128K",
             .help = "Kilobytes 128-65536, or 128K 256K 2M 4M 6M 8M 16M 32M 64M"},
            {.kwd = "DTADIR",
             .prompt = "Data direction",
             .type = cl::Type::Special,
             .specials = {"*BOTH", "*SND", "*RCV"},
             .dft = "*BOTH"},
            {.kwd = "TRCFULL",
             .prompt = "Trace full",
             .type = cl::Type::Special,
             .specials = {"*WRAP", "*STOPTRC"},
             .dft = "*WRAP"},
            {.kwd = "USRDTA",
             .prompt = "Number of user bytes to trace",
             .type = cl::Type::Int,
             .min = 0,
             .max = 65535,
             .specials = {"*CALC", "*MAX"},
             .dft = "*CALC",
             .help = "*CALC keeps 100 bytes of user data per frame"},
            {.kwd = "TEXT",
             .prompt = "Trace description",
             .type = cl::Type::Char,
             .max_len = 50,
             .specials = {"*BLANK"},
             .dft = "*BLANK"},
        },
};

Status run(cl::Invocation& inv) {
    QVPN_TRY(paths::ensure());
    StartRequest req;
    req.cfgobj = inv.str("CFGOBJ");
    req.type = *cfgtype_from_cl(inv.str("CFGTYPE"));
    req.maxstg = inv.str("MAXSTG");
    req.dtadir = *datadir_from_cl(inv.str("DTADIR"));
    req.trcfull = *tracefull_from_cl(inv.str("TRCFULL"));
    req.usrdta = *parse_usrdta(inv.str("USRDTA"));
    req.text = inv.is("TEXT", "*BLANK") ? std::string() : inv.str("TEXT");
    QVPN_ASSIGN(TraceInfo info, start_trace(req, TraceStore()));
    inv.complete(
        msg("TRC0001", info.cfgobj, to_cl(info.type), info.interface, info.pid, info.buffer_bytes));
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    return cl::run_main(kDef, run, argc, argv);
}
