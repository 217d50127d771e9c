#include "core/base/paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace qvpn::paths {

std::string root() {
    const char* r = std::getenv("QVPN_ROOT");
    if (r != nullptr && *r != '\0') {
        return r;
    }
    return "/var/lib/qvpn";
}

std::string policy_db() { return root() + "/policy.db"; }
std::string secret_dir() { return root() + "/secret"; }
std::string run_dir() { return root() + "/run"; }
std::string joblog_dir() { return root() + "/joblog"; }
std::string journal_dir() { return root() + "/journal"; }
std::string lib_dir() { return root() + "/lib"; }
std::string rulegen_dir() { return root() + "/rulegen"; }
std::string trace_dir() { return root() + "/trace"; }

static Status make_dir(const std::string& d, mode_t mode) {
    if (::mkdir(d.c_str(), mode) != 0 && errno != EEXIST) {
        return fail(msg("QVP0001", d).with_errno(errno));
    }
    return {};
}

Status ensure() {
    std::error_code ec;
    std::filesystem::create_directories(root(), ec);
    if (ec) {
        return fail(msg("QVP0001", root()).with_errno(ec.value()));
    }
    QVPN_TRY(make_dir(secret_dir(), 0700));
    QVPN_TRY(make_dir(run_dir(), 0755));
    QVPN_TRY(make_dir(joblog_dir(), 0755));
    QVPN_TRY(make_dir(journal_dir(), 0755));
    QVPN_TRY(make_dir(lib_dir(), 0755));
    QVPN_TRY(make_dir(rulegen_dir(), 0755));
    QVPN_TRY(make_dir(trace_dir(), 0750));
    return {};
}

std::string self_dir() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return ".";
    }
    return p.parent_path().string();
}

std::string libexec_dir() {
    const char* e = std::getenv("QVPN_LIBEXEC");
    if (e != nullptr && *e != '\0') {
        return e;
    }
    std::filesystem::path self(self_dir());
    // Commands live in bin/, daemons in libexec/qvpn/; a daemon asking for
    // its siblings is already there.
    if (self.filename() == "qvpn") {
        return self.string();
    }
    return (self.parent_path() / "libexec" / "qvpn").string();
}

}  // namespace qvpn::paths
