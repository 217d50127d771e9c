#include "rules/journal_job.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/base/ip.hpp"
#include "core/base/paths.hpp"
#include "core/base/text.hpp"

namespace qvpn::rules {

int nflog_group() {
    long long g = 0;
    const char* e = std::getenv("QVPN_NFLOG_GROUP");
    if (e != nullptr && parse_int(e, g) && g > 0 && g < 65536) {
        return int(g);
    }
    return 7301;
}

// --- decoding ---------------------------------------------------------------------------

std::optional<LogPrefix> parse_log_prefix(std::string_view prefix) {
    auto parts = split(prefix, ' ');
    if (parts.size() != 5 || parts[0] != "QF" || parts[3].size() != 1 || parts[4].size() != 1) {
        return std::nullopt;
    }
    LogPrefix p;
    long long unit = 0, rule = 0;
    if (!parse_int(parts[1], unit) || !parse_int(parts[2], rule) || unit <= 0 || rule <= 0 ||
        rule > 99999) {
        return std::nullopt;
    }
    char a = parts[3][0], d = parts[4][0];
    if ((a != 'P' && a != 'D' && a != 'I') || (d != 'I' && d != 'O')) {
        return std::nullopt;
    }
    p.unit = int(unit);
    p.rule = int(rule);
    p.action = a;
    p.inbound = d == 'I';
    return p;
}

namespace {

void transport(ByteReader& r, PacketHeader& h) {
    if (h.protocol == 6 || h.protocol == 17) {
        h.sport = r.u16();
        h.dport = r.u16();
    } else if (h.protocol == 1 || h.protocol == 58) {
        h.sport = r.u8();
        h.dport = r.u8();
    }
    if (r.failed()) {
        h.sport = h.dport = 0;  // header cut short: addresses and protocol only
    }
}

}  // namespace

std::optional<PacketHeader> decode_packet(ByteView ip) {
    ByteReader r(ip);
    if (ip.empty()) {
        return std::nullopt;
    }
    PacketHeader h;
    int version = ip[0] >> 4;
    if (version == 4) {
        uint8_t vihl = r.u8();
        size_t ihl = size_t(vihl & 0x0f) * 4;
        r.skip(5);  // tos, total length, id
        uint16_t frag = r.u16();
        r.skip(1);  // ttl
        h.protocol = r.u8();
        r.skip(2);  // checksum
        ByteView s = r.bytes(4), d = r.bytes(4);
        if (r.failed() || ihl < 20 || ip.size() < ihl) {
            return std::nullopt;
        }
        h.family = 4;
        h.src = IpAddress::from_bytes(s.data(), 4)->to_string();
        h.dst = IpAddress::from_bytes(d.data(), 4)->to_string();
        if ((frag & 0x1fff) == 0) {
            ByteReader t(ip.subspan(ihl));
            transport(t, h);
        }
        return h;
    }
    if (version != 6) {
        return std::nullopt;
    }
    r.skip(6);  // version/class/flow, payload length
    uint8_t next = r.u8();
    r.skip(1);  // hop limit
    ByteView s = r.bytes(16), d = r.bytes(16);
    if (r.failed()) {
        return std::nullopt;
    }
    h.family = 6;
    h.src = IpAddress::from_bytes(s.data(), 16)->to_string();
    h.dst = IpAddress::from_bytes(d.data(), 16)->to_string();
    bool later_fragment = false;
    // RFC 8200 4: walk the extension headers to the upper-layer header.
    for (int hops = 0; hops < 8; ++hops) {
        if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination
            uint8_t n = r.u8();
            uint8_t len = r.u8();
            r.skip(size_t(len) * 8 + 6);
            next = n;
        } else if (next == 44) {  // fragment
            uint8_t n = r.u8();
            r.skip(1);
            uint16_t off = r.u16();
            r.skip(4);
            later_fragment = (off & 0xfff8) != 0;
            next = n;
        } else {
            break;
        }
        if (r.failed()) {
            break;
        }
    }
    h.protocol = next;
    if (!r.failed() && !later_fragment) {
        transport(r, h);
    }
    return h;
}

journal::TfEntry action_entry(const LogPrefix& p, const PacketHeader& h, const std::string& line) {
    journal::TfEntry e;
    e.line = line;
    e.revt = "A";
    e.pdir = p.inbound ? "I" : "O";
    e.rnum = std::to_string(p.rule);
    e.act = p.action == 'P' ? "PERMIT" : p.action == 'D' ? "DENY" : "IPSEC";
    e.prot = std::to_string(h.protocol);
    e.srca = h.src;
    e.dsta = h.dst;
    bool ports = h.protocol == 6 || h.protocol == 17 || h.protocol == 1 || h.protocol == 58;
    e.srcp = ports ? std::to_string(h.sport) : "";
    e.dstp = ports ? std::to_string(h.dport) : "";
    return e;
}

uint64_t journal_bytes() {
    uint64_t total = 0;
    std::string path = journal::db_path(journal::Journal::Qipfilter);
    for (const char* sfx : {"", "-wal"}) {
        std::error_code ec;
        auto n = std::filesystem::file_size(path + sfx, ec);
        total += ec ? 0 : n;
    }
    return total;
}

// --- bounding -----------------------------------------------------------------------------

bool TokenBucket::take(SteadyTime now) {
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    double dt = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + dt * rate_);
    if (tokens_ < 1.0) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

JobLimits JobLimits::from_env() {
    JobLimits l;
    long long v = 0;
    if (const char* e = std::getenv("QVPN_IPFJRN_RATE"); e && parse_int(e, v) && v > 0) {
        l.rate = double(v);
    }
    if (const char* e = std::getenv("QVPN_IPFJRN_BURST"); e && parse_int(e, v) && v > 0) {
        l.burst = double(v);
    }
    if (const char* e = std::getenv("QVPN_IPFJRN_MAX_MB"); e && parse_int(e, v) && v > 0) {
        l.max_bytes = uint64_t(v) << 20;
    }
    return l;
}

// --- status and control ---------------------------------------------------------------------

std::string job_pid_path() { return paths::run_dir() + "/" + kJournalJob + ".pid"; }
std::string job_status_path() { return paths::run_dir() + "/" + kJournalJob + ".status"; }

namespace {

int read_pid() {
    std::ifstream in(job_pid_path());
    long long pid = 0;
    std::string s;
    if (!(in >> s) || !parse_int(s, pid) || pid <= 1) {
        return 0;
    }
    return int(pid);
}

// Is `pid` our job (and not a process that reused its number)?
bool is_job(int pid) {
    if (pid <= 1) {
        return false;
    }
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (!std::getline(comm, name) || name != kJournalJob) {
        return false;
    }
    // A job that has ended but was not yet reaped by its parent is a zombie.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace

JobStatus job_status() {
    JobStatus s;
    std::ifstream in(job_status_path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_object()) {
        s.group = j.value("group", 0);
        s.started = j.value("started", "");
        s.written = j.value("written", uint64_t(0));
        s.dropped_rate = j.value("dropped_rate", uint64_t(0));
        s.dropped_size = j.value("dropped_size", uint64_t(0));
        s.dropped_kernel = j.value("dropped_kernel", uint64_t(0));
    }
    int pid = read_pid();
    s.running = is_job(pid);
    s.pid = s.running ? pid : 0;
    return s;
}

void write_job_status(const JobStatus& s) {
    nlohmann::json j = {{"pid", getpid()},
                        {"group", s.group},
                        {"started", s.started},
                        {"written", s.written},
                        {"dropped_rate", s.dropped_rate},
                        {"dropped_size", s.dropped_size},
                        {"dropped_kernel", s.dropped_kernel}};
    std::string tmp = job_status_path() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump() << "\n";
        if (!out) {
            return;
        }
    }
    std::filesystem::rename(tmp, job_status_path());
}

Result<bool> start_job() {
    if (is_job(read_pid())) {
        return false;
    }
    QVPN_TRY(paths::ensure());
    std::error_code ec;
    std::filesystem::remove(job_pid_path(), ec);
    std::string exe = paths::libexec_dir() + "/" + kJournalJob;
    if (access(exe.c_str(), X_OK) != 0) {
        return fail("NFT0142", exe + " not found");
    }
    pid_t child = fork();
    if (child < 0) {
        return fail(msg("NFT0142", "fork failed").with_errno(errno));
    }
    if (child == 0) {
        setsid();
        // Stay out of the caller's terminal; the job writes its job log.
        freopen("/dev/null", "r", stdin);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        // Nor keep the caller's other descriptors (a pipe it waits on to
        // end, a lock): the job outlives the command.
        close_range(3, ~0U, 0);
        execl(exe.c_str(), kJournalJob, static_cast<char*>(nullptr));
        _exit(127);
    }
    constexpr int kWaitSeconds = 5;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_pid() == child) {
            return true;
        }
        int st = 0;
        if (waitpid(child, &st, WNOHANG) == child) {
            return fail("NFT0142", "the job ended at once (exit " +
                                       std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1) +
                                       "); see DSPJOBLOG JOB(QTOIPFJRN)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return fail("NFT0145", std::to_string(kWaitSeconds));
}

void stop_job() {
    int pid = read_pid();
    if (!is_job(pid)) {
        return;
    }
    // The job is our child only when this process started it; reaping
    // anything else fails harmlessly.
    auto gone = [pid] {
        waitpid(pid, nullptr, WNOHANG);
        return !is_job(pid);
    };
    kill(pid, SIGTERM);
    for (int i = 0; i < 500 && !gone(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone()) {
        kill(pid, SIGKILL);
        for (int i = 0; i < 100 && !gone(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

}  // namespace qvpn::rules
