// QSCCMNTRC: the resident communications trace job (see trace_job.hpp).
// Started by STRCMNTRC as `QSCCMNTRC --trace LIN.TRLINE`; not a command.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/base/text.hpp"
#include "daemon/trace/trace_job.hpp"

using namespace qvpn;

int main(int argc, char** argv) {
    if (argc != 3 || std::strcmp(argv[1], "--trace") != 0) {
        std::fprintf(stderr,
                     "usage: QSCCMNTRC --trace <TYPE>.<NAME>\n"
                     "The trace job is started by STRCMNTRC; see STRCMNTRC(1).\n");
        return 2;
    }
    std::string spec = argv[2];
    size_t dot = spec.find('.');
    auto type =
        dot == std::string::npos ? std::nullopt : trace::cfgtype_from_cl("*" + spec.substr(0, dot));
    if (!type || dot + 1 >= spec.size()) {
        std::fprintf(stderr, "QSCCMNTRC: trace %s is not <TYPE>.<NAME>\n", spec.c_str());
        return 2;
    }
    int ready_fd = -1;
    if (const char* fd = std::getenv("QVPN_READY_FD")) {
        long long n = 0;
        ready_fd = parse_int(fd, n) ? static_cast<int>(n) : -1;
    }
    return trace::run_trace_job(trace::TraceKey{*type, spec.substr(dot + 1)}, ready_fd);
}
