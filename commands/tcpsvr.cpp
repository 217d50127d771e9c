#include "commands/tcpsvr.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::cmd {

cl::ParamDef server_param() {
    return {.kwd = "SERVER",
            .prompt = "Server application",
            .type = cl::Type::Special,
            .specials = {"*VPN",    "*ALL",   "*AUTOSTART", "*BOOTP",  "*DBG",    "*DDM",
                         "*DHCP",   "*DIRSRV", "*DLFM",     "*DNS",    "*DOMINO", "*EDRSQL",
                         "*FTP",    "*HTTP",  "*HOD",       "*IAS",    "*INETD",  "*LPD",
                         "*MGTC",   "*NETSVR", "*NSLD",     "*NTP",    "*ODPA",   "*OMPROUTED",
                         "*ONDMD",  "*POP",   "*QOS",       "*REXEC",  "*ROUTED", "*SLP",
                         "*SMTP",   "*SNMP",  "*SRVSPTPRX", "*SSHD",   "*TCM",    "*TELNET",
                         "*TFTP",   "*WEBFACING"},
            .required = true,
            .positional = 1,
            .help = "qvpn serves *VPN, the VPN server; other servers are not part of qvpn"};
}

Status vpn_only(const cl::Invocation& inv) {
    std::string s = to_upper(inv.str("SERVER"));
    if (s != "*VPN") {
        return fail("VMN0006", s);
    }
    return {};
}

std::optional<pid_t> running_vman() {
    std::string path = paths::run_dir() + "/QTOVMAN.pid";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::optional<pid_t> pid;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        long long v = 0;
        std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        pid = parse_int(trim(s), v) ? static_cast<pid_t>(v) : pid_t{0};
    }
    ::close(fd);
    return pid;
}

bool process_alive(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) {
        return false;
    }
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(st, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace qvpn::cmd
