#include "commands/vpn_client.hpp"

namespace qvpn::cmd {

Result<ipc::Reply> ask_vman(nlohmann::json req, std::chrono::milliseconds timeout) {
    return ipc::request(std::move(req), timeout);
}

Status finish(cl::Invocation& inv, const ipc::Reply& r) {
    if (r.msgs.empty()) {
        return r.ok ? Status{} : Status(fail("QVP0003", inv.def().name, "reply without message"));
    }
    for (size_t i = 0; i + 1 < r.msgs.size(); ++i) {
        inv.diagnostic(r.msgs[i]);
    }
    if (!r.ok) {
        return fail(r.msgs.back());
    }
    inv.complete(r.msgs.back());
    return {};
}

}  // namespace qvpn::cmd
