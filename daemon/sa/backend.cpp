#include "daemon/sa/backend.hpp"

#include "core/joblog/joblog.hpp"
#include "daemon/sa/userspace/userspace_backend.hpp"
#include "daemon/sa/xfrm/xfrm_backend.hpp"

namespace qvpn::sa {

std::string_view to_string(DataPathKind k) {
    return k == DataPathKind::Kernel ? "*KERNEL" : "*USERSPACE";
}

std::string_view to_string(SaEvent::Kind k) {
    switch (k) {
    case SaEvent::Kind::Acquire: return "acquire";
    case SaEvent::Kind::SoftExpire: return "soft-expire";
    case SaEvent::Kind::HardExpire: return "hard-expire";
    }
    return "?";
}

Result<std::unique_ptr<SaBackend>> make_backend(policy::DataPath choice,
                                                const BackendOptions& opts) {
    if (choice == policy::DataPath::Kernel) {
        QVPN_ASSIGN(auto k, xfrm::XfrmBackend::create(opts));
        return std::unique_ptr<SaBackend>(std::move(k));
    }
    if (choice == policy::DataPath::Auto) {
        Status probe = xfrm::XfrmBackend::probe();
        if (probe.ok()) {
            QVPN_ASSIGN(auto k, xfrm::XfrmBackend::create(opts));
            if (opts.log) {
                opts.log->message(msg("XFR0111", "*AUTO"));
            }
            return std::unique_ptr<SaBackend>(std::move(k));
        }
        if (opts.log) {
            opts.log->message(msg("ESP0003", probe.error().value(4)));
        }
    }
    QVPN_ASSIGN(auto u, us::UserspaceBackend::create(opts));
    return std::unique_ptr<SaBackend>(std::move(u));
}

}  // namespace qvpn::sa
