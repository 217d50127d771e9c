// ENDTCPSVR: End TCP/IP Server. SERVER(*VPN) ends every VPN connection (SAs
// deleted on both systems, policies removed), the key managers, then
// QTOVMAN; it returns when QTOVMAN has ended.
#include <thread>

#include "commands/tcpsvr.hpp"
#include "commands/vpn_client.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "ENDTCPSVR",
    .title = "End TCP/IP Server",
    .authority = cl::Authority::IoSysCfg,
    .params = {cmd::server_param()},
};

Status run(cl::Invocation& inv) {
    QVPN_TRY(cmd::vpn_only(inv));
    auto pid = cmd::running_vman();
    if (!pid) {
        return fail("VMN0004");
    }
    auto r = cmd::ask_vman({{"op", "shutdown"}}, std::chrono::seconds(60));
    if (!r.ok()) {
        // No socket while the process holds its lock: it is not answering.
        if (r.error().id == "IPC0001") {
            return fail("VMN0004");
        }
        return r.failure();
    }
    // Wait for the process itself to be gone: its lock released and no
    // process left (a zombie waiting for its parent counts as gone).
    for (int i = 0; i < 200 && (cmd::running_vman() || cmd::process_alive(*pid)); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cmd::finish(inv, *r);
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
