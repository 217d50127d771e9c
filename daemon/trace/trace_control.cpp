#include "daemon/trace/trace_control.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "daemon/trace/config_lookup.hpp"
#include "daemon/trace/printer.hpp"

namespace qvpn::trace {

namespace {

using namespace std::chrono_literals;

constexpr auto kStartTimeout = 10s;
constexpr auto kEndTimeout = 15s;
constexpr const char* kJobProgram = "QSCCMNTRC";

bool claims_running(TraceState s) {
    return s == TraceState::Starting || s == TraceState::Active || s == TraceState::Ending;
}

// The message for "no trace": a line that does not exist is reported as
// such, as IBM i does, before saying there is no trace on it.
Msg missing_trace(CfgType type, const std::string& cfgobj) {
    if (type == CfgType::NetworkServer) {
        return msg("CPF26AE", cfgobj);
    }
    auto iface = resolve_interface(type, cfgobj);
    if (!iface.ok()) {
        return iface.error();
    }
    return msg("CPF39B0", to_upper(cfgobj), to_cl(type));
}

Result<TraceStatus> status_of(const TraceKey& key, const TraceStore& store) {
    QVPN_ASSIGN(TraceInfo info, store.read(key));
    TraceStatus s{key, std::move(info), std::nullopt};
    if (claims_running(s.info.state) && !store.job_running(key)) {
        s.info.state = TraceState::Abended;
        s.info.reason = "the trace job is no longer running";
    }
    auto h = store.read_header(key);
    if (h.ok()) {
        s.header = *h;
    }
    return s;
}

// Is `pid` the trace job of `key`? (Its command line names both.)
bool is_trace_job(int pid, const TraceKey& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cmd = ss.str();
    return cmd.find(kJobProgram) != std::string::npos &&
           cmd.find(key.dir_name()) != std::string::npos;
}

// --- starting the job --------------------------------------------------------

// Child side of the fork: a session of its own, no terminal, only the
// handshake pipe as descriptor 3.
[[noreturn]] void exec_job(const std::string& program, const TraceKey& key, int ready_w) {
    ::setsid();
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
    }
    ::dup2(ready_w, 3);
    ::close_range(4, ~0U, 0);
    ::setenv("QVPN_READY_FD", "3", 1);
    std::string spec = key.dir_name();
    ::execl(program.c_str(), kJobProgram, "--trace", spec.c_str(), static_cast<char*>(nullptr));
    int e = errno;
    std::string line = "{\"ok\":false,\"msgid\":\"TRC0016\",\"values\":[\"" + key.name + "\",\"" +
                       std::string(to_cl(key.type)) + "\",\"cannot run " + program + ": " +
                       std::strerror(e) + "\"]}\n";
    (void)!::write(3, line.data(), line.size());
    ::_exit(127);
}

// Read the job's one-line answer, or time out.
Result<std::string> read_handshake(int fd, const TraceKey& key) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (got.find('\n') == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return fail("TRC0016", key.name, to_cl(key.type), "no answer within 10 seconds");
        }
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        char buf[512];
        ssize_t r = n > 0 ? ::read(fd, buf, sizeof buf) : 0;
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (n > 0 && r <= 0) {
            return fail("TRC0016", key.name, to_cl(key.type), "the job ended before it started");
        }
        got.append(buf, static_cast<size_t>(std::max<ssize_t>(r, 0)));
    }
    return got.substr(0, got.find('\n'));
}

Status spawn_job(const TraceKey& key) {
    std::string program = paths::libexec_dir() + "/" + kJobProgram;
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        return fail(
            msg("TRC0016", key.name, to_cl(key.type), std::strerror(errno)).with_errno(errno));
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return fail(msg("TRC0016", key.name, to_cl(key.type), std::strerror(e)).with_errno(e));
    }
    if (pid == 0) {
        ::close(pipefd[0]);
        exec_job(program, key, pipefd[1]);
    }
    ::close(pipefd[1]);
    auto answer = read_handshake(pipefd[0], key);
    ::close(pipefd[0]);
    if (!answer.ok()) {
        ::kill(pid, SIGTERM);
        return answer.failure();
    }
    auto j = nlohmann::json::parse(*answer, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail("TRC0016", key.name, to_cl(key.type), "unreadable answer: " + *answer);
    }
    if (j.value("ok", false)) {
        return {};
    }
    Msg m;
    m.id = j.value("msgid", std::string("TRC0016"));
    if (j.contains("values") && j["values"].is_array()) {
        for (const auto& v : j["values"]) {
            m.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    m.sys_errno = j.value("errno", 0);
    return fail(std::move(m));
}

Status set_abended(const TraceKey& key, const TraceStore& store, TraceInfo& info) {
    info.state = TraceState::Abended;
    info.reason = "the trace job is no longer running";
    if (info.end_ns == 0) {
        info.end_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
    }
    return store.write(key, info);
}

}  // namespace

TraceKey key_for(CfgType type, const std::string& cfgobj) {
    return TraceKey{type, to_upper(cfgobj)};
}

uint64_t storage_in_use(const TraceStore& store) {
    uint64_t sum = 0;
    for (const auto& k : store.list()) {
        auto info = store.read(k);
        sum += info.ok() ? info->buffer_bytes : 0;
    }
    return sum;
}

Result<TraceInfo> start_trace(const StartRequest& req, const TraceStore& store) {
    TraceKey key = key_for(req.type, req.cfgobj);
    auto buffer = parse_maxstg(req.maxstg);
    if (!buffer) {
        return fail("TRC0014", req.maxstg);
    }
    QVPN_ASSIGN(InterfaceState iface, resolve_interface(req.type, req.cfgobj));
    if (!iface.up) {
        return fail("TRC0012", key.name, iface.name);
    }

    // Creating a trace and checking the storage sum happen under one lock,
    // so two STRCMNTRC at once cannot both take the last megabytes.
    QVPN_ASSIGN(FileLock store_lock, store.lock_store());
    if (store.exists(key)) {
        auto st = status_of(key, store);
        return fail("TRC0010", key.name, to_cl(key.type),
                    st.ok() ? std::string(state_name(st->info.state)) : std::string("damaged"));
    }
    uint64_t in_use = storage_in_use(store);
    QVPN_ASSIGN(uint64_t limit, storage_limit());
    if (in_use + *buffer > limit) {
        return fail("TRC0013", *buffer, in_use, limit);
    }

    TraceInfo info;
    info.cfgobj = key.name;
    info.type = key.type;
    info.interface = iface.name;
    info.link = iface.link;
    info.buffer_bytes = *buffer;
    info.maxstg = to_upper(req.maxstg);
    info.dtadir = req.dtadir;
    info.trcfull = req.trcfull;
    info.usrdta = req.usrdta;
    info.text = req.text;
    info.state = TraceState::Starting;
    QVPN_TRY(store.create(key));
    {
        QVPN_ASSIGN(FileLock state_lock, store.lock_state(key));
        if (auto st = store.write(key, info); !st.ok()) {
            (void)store.remove(key);
            return st.failure();
        }
    }
    if (auto st = spawn_job(key); !st.ok()) {
        (void)store.remove(key);
        return st.failure();
    }
    return store.read(key);
}

Result<TraceStatus> end_trace(CfgType type, const std::string& cfgobj, const TraceStore& store,
                              std::vector<Msg>& diags) {
    TraceKey key = key_for(type, cfgobj);
    if (type == CfgType::NetworkServer || !store.exists(key)) {
        return fail(missing_trace(type, cfgobj));
    }
    int pid = 0;
    {
        QVPN_ASSIGN(FileLock lock, store.lock_state(key));
        QVPN_ASSIGN(TraceInfo info, store.read(key));
        if (is_ended(info.state)) {
            return fail("CPF39AE", key.name, to_cl(type));
        }
        bool running = store.job_running(key);
        if (info.state == TraceState::Ending && running) {
            return fail("CPF39AF", key.name, to_cl(type));
        }
        if (!running) {
            diags.push_back(msg("TRC001B", key.name, to_cl(type), info.pid));
            QVPN_TRY(set_abended(key, store, info));
            return status_of(key, store);
        }
        if (!is_trace_job(info.pid, key)) {
            return fail("CPF39A9", key.name, to_cl(type),
                        "process " + std::to_string(info.pid) + " is not the trace job");
        }
        info.state = TraceState::Ending;
        QVPN_TRY(store.write(key, info));
        pid = info.pid;
    }

    // The job saves the buffer and records the end itself; wait for it.
    ::kill(pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + kEndTimeout;
    while (store.job_running(key) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    if (store.job_running(key)) {
        return fail("CPF39AF", key.name, to_cl(type));
    }
    QVPN_ASSIGN(FileLock lock, store.lock_state(key));
    QVPN_ASSIGN(TraceInfo info, store.read(key));
    if (claims_running(info.state)) {
        diags.push_back(msg("TRC001B", key.name, to_cl(type), info.pid));
        QVPN_TRY(set_abended(key, store, info));
    }
    return status_of(key, store);
}

Status delete_trace(CfgType type, const std::string& cfgobj, const TraceStore& store) {
    TraceKey key = key_for(type, cfgobj);
    QVPN_ASSIGN(FileLock store_lock, store.lock_store());
    if (type == CfgType::NetworkServer || !store.exists(key)) {
        return fail(missing_trace(type, cfgobj));
    }
    {
        QVPN_ASSIGN(FileLock lock, store.lock_state(key));
        if (store.job_running(key)) {
            return fail("TRC0011", key.name, to_cl(type), "DLTCMNTRC");
        }
    }
    return store.remove(key);
}

Result<TraceStatus> trace_status(CfgType type, const std::string& cfgobj, const TraceStore& store) {
    TraceKey key = key_for(type, cfgobj);
    if (type == CfgType::NetworkServer || !store.exists(key)) {
        return fail(missing_trace(type, cfgobj));
    }
    return status_of(key, store);
}

std::vector<TraceStatus> all_status(const TraceStore& store) {
    std::vector<TraceStatus> out;
    for (const auto& k : store.list()) {
        auto s = status_of(k, store);
        if (s.ok()) {
            out.push_back(std::move(*s));
        }
    }
    return out;
}

// --- reading a trace back ------------------------------------------------------

Result<LoadedTrace> LoadedTrace::load(CfgType type, const std::string& cfgobj,
                                      const TraceStore& store) {
    QVPN_ASSIGN(TraceStatus st, trace_status(type, cfgobj, store));
    if (claims_running(st.info.state)) {
        return fail("TRC0011", st.key.name, to_cl(type), "PRTCMNTRC");
    }
    std::string path = store.frames_path(st.key);
    if (!st.header) {
        return fail("TRC0015", path, "the trace job never wrote it");
    }
    LoadedTrace t;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(msg("QVP0004", path).with_errno(errno));
    }
    struct stat sb {};
    if (::fstat(fd, &sb) != 0 ||
        static_cast<uint64_t>(sb.st_size) < kFileHeaderBytes + st.header->ring.capacity) {
        ::close(fd);
        return fail("TRC0015", path, "file shorter than its buffer");
    }
    t.map_bytes_ = static_cast<size_t>(sb.st_size);
    void* p = ::mmap(nullptr, t.map_bytes_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        return fail(msg("QVP0004", path).with_errno(errno));
    }
    t.map_ = static_cast<const uint8_t*>(p);
    ByteView ring(t.map_ + kFileHeaderBytes, st.header->ring.capacity);
    QVPN_ASSIGN(t.records_, read_records(ring, st.header->ring, path));
    t.status_ = std::move(st);
    return t;
}

LoadedTrace::LoadedTrace(LoadedTrace&& o) noexcept
    : status_(std::move(o.status_)),
      map_(o.map_),
      map_bytes_(o.map_bytes_),
      records_(std::move(o.records_)) {
    o.map_ = nullptr;
}

LoadedTrace::~LoadedTrace() {
    if (map_ != nullptr) {
        ::munmap(const_cast<uint8_t*>(map_), map_bytes_);
    }
}

nlohmann::json status_json(const TraceStatus& s) {
    const TraceInfo& i = s.info;
    nlohmann::json j = {
        {"cfgobj", i.cfgobj},
        {"cfgtype", std::string(to_cl(i.type))},
        {"interface", i.interface},
        {"state", std::string(state_key(i.state))},
        {"state_text", std::string(state_name(i.state))},
        {"reason", i.reason},
        {"text", i.text},
        {"pid", i.pid},
        {"maxstg", i.maxstg},
        {"buffer_bytes", i.buffer_bytes},
        {"dtadir", std::string(to_cl(i.dtadir))},
        {"trcfull", std::string(to_cl(i.trcfull))},
        {"usrdta", i.usrdta.all ? nlohmann::json("*MAX") : nlohmann::json(i.usrdta.bytes)},
        {"start", i.start_ns != 0 ? format_time_iso(i.start_ns) : std::string()},
        {"end", i.end_ns != 0 ? format_time_iso(i.end_ns) : std::string()},
    };
    if (s.header) {
        const FileHeader& h = *s.header;
        j["bytes_used"] = h.ring.used;
        j["frames_in_buffer"] = h.ring.count;
        j["frames_traced"] = h.counters.seen;
        j["frames_overwritten"] = h.counters.overwritten;
        j["frames_refused"] = h.counters.refused;
        j["kernel_drops"] = h.counters.kernel_drops;
        j["wrapped"] = h.wrapped();
        j["full"] = h.full;
    }
    return j;
}

}  // namespace qvpn::trace
