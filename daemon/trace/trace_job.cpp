#include "daemon/trace/trace_job.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/base/paths.hpp"
#include "core/joblog/joblog.hpp"
#include "daemon/trace/capture.hpp"
#include "daemon/trace/config_lookup.hpp"
#include "daemon/trace/recorder.hpp"

namespace qvpn::trace {

namespace {

constexpr const char* kJobName = "QSCCMNTRC";
constexpr int kPollMs = 100;

uint64_t now_ns() {
    using namespace std::chrono;
    return static_cast<uint64_t>(
        duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

// The trace file mapped for writing: the header area, then the ring.
class MappedTraceFile {
public:
    static Result<MappedTraceFile> create(const std::string& path, uint64_t capacity,
                                          const std::string& cfgobj) {
        MappedTraceFile m;
        m.bytes_ = kFileHeaderBytes + capacity;
        m.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (m.fd_ < 0) {
            return fail(msg("QVP0005", path).with_errno(errno));
        }
        // Reserve the blocks now: a full disk must fail here, not later as
        // SIGBUS on a page of the mapping.
        int e = ::posix_fallocate(m.fd_, 0, static_cast<off_t>(m.bytes_));
        if (e != 0) {
            return fail(msg("CPF39A7", capacity, cfgobj, std::strerror(e)).with_errno(e));
        }
        void* p =
            ::mmap(nullptr, m.bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, m.fd_, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            return fail(msg("CPF39A7", capacity, cfgobj, std::strerror(err)).with_errno(err));
        }
        m.map_ = static_cast<uint8_t*>(p);
        return m;
    }

    MappedTraceFile(MappedTraceFile&& o) noexcept : fd_(o.fd_), map_(o.map_), bytes_(o.bytes_) {
        o.fd_ = -1;
        o.map_ = nullptr;
    }
    MappedTraceFile& operator=(MappedTraceFile&&) = delete;
    ~MappedTraceFile() {
        if (map_ != nullptr) {
            ::munmap(map_, bytes_);
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    std::span<uint8_t> ring() { return {map_ + kFileHeaderBytes, bytes_ - kFileHeaderBytes}; }
    void write_header(const FileHeader& h) {
        Bytes b = serialize_header(h);
        std::memcpy(map_, b.data(), b.size());
    }
    void sync() { ::msync(map_, bytes_, MS_SYNC); }

private:
    MappedTraceFile() = default;
    int fd_ = -1;
    uint8_t* map_ = nullptr;
    size_t bytes_ = 0;
};

void report_ready(int& fd, const Msg* failure) {
    if (fd < 0) {
        return;
    }
    nlohmann::json j = {{"ok", failure == nullptr}};
    if (failure != nullptr) {
        j["msgid"] = failure->id;
        j["values"] = failure->values;
        j["errno"] = failure->sys_errno;
    }
    std::string line = j.dump() + "\n";
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
    fd = -1;
}

// Signals that end the job arrive through a descriptor, so the capture loop
// sees them in the same poll() as the frames.
int block_end_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

enum class EndReason { Ended, Full, LineFailed };

struct JobContext {
    TraceKey key;
    TraceStore store;
    joblog::JobLog log{kJobName};
    joblog::Fields fields;
};

Status set_state(JobContext& c, TraceState state, const std::string& reason, uint64_t end_ns) {
    QVPN_ASSIGN(FileLock lock, c.store.lock_state(c.key));
    QVPN_ASSIGN(TraceInfo info, c.store.read(c.key));
    info.state = state;
    info.reason = reason;
    if (state == TraceState::Active) {
        info.pid = ::getpid();
        info.start_ns = end_ns;
    } else {
        info.end_ns = end_ns;
    }
    return c.store.write(c.key, info);
}

EndReason capture_loop(JobContext& c, PacketCapture& cap, TraceRecorder& rec, MappedTraceFile& file,
                       const TraceInfo& info, int sig_fd) {
    std::string cfgtype(to_cl(info.type));
    auto on_frame = [&](const CapturedFrame& f) {
        RecordEvent ev = rec.record(f);
        if (ev == RecordEvent::FirstWrap) {
            c.log.message(msg("TRC0019", info.cfgobj, cfgtype, info.buffer_bytes), c.fields);
        }
        return ev != RecordEvent::Full;
    };
    for (;;) {
        pollfd fds[2] = {{cap.fd(), POLLIN, 0}, {sig_fd, POLLIN, 0}};
        int n = ::poll(fds, 2, kPollMs);
        if (n < 0 && errno != EINTR) {
            c.log.debug("capture", std::string("poll: ") + std::strerror(errno), c.fields);
        }
        cap.drain(on_frame);
        rec.add_kernel_drops(cap.take_drops());
        file.write_header(rec.header(now_ns()));
        if (rec.full()) {
            return EndReason::Full;
        }
        if ((fds[0].revents & POLLERR) != 0) {
            int err = cap.take_error();
            auto st = interface_state(info.interface);
            if (!st) {
                c.log.message(msg("TRC001A", info.cfgobj, std::strerror(err)), c.fields);
                return EndReason::LineFailed;
            }
            c.log.debug("capture",
                        "interface " + info.interface + " reported " + std::strerror(err) +
                            "; still there, tracing on",
                        c.fields);
        }
        if ((fds[1].revents & POLLIN) != 0) {
            signalfd_siginfo si{};
            (void)!::read(sig_fd, &si, sizeof si);
            c.log.debug("job", "signal " + std::to_string(si.ssi_signo) + ": ending", c.fields);
            return EndReason::Ended;
        }
    }
}

// A partly filled block reaches user space only after its timeout: wait for
// it once more so frames sent just before ENDCMNTRC are in the trace.
void final_drain(PacketCapture& cap, TraceRecorder& rec, unsigned timeout_ms) {
    pollfd fd{cap.fd(), POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(2 * timeout_ms));
    cap.drain([&](const CapturedFrame& f) { return rec.record(f) != RecordEvent::Full; });
    rec.add_kernel_drops(cap.take_drops());
}

}  // namespace

int run_trace_job(const TraceKey& key, int ready_fd) {
    (void)paths::ensure();
    JobContext c;
    c.key = key;
    std::string cfgtype(to_cl(key.type));
    c.fields.extra = {{"cfgobj", key.name}, {"cfgtype", cfgtype}};
    auto give_up = [&](const Msg& m) {
        c.log.message(m, c.fields);
        report_ready(ready_fd, &m);
        return 1;
    };

    int sig_fd = block_end_signals();
    auto job_lock = FileLock::try_acquire(c.store.job_lock_path(key));
    if (!job_lock.ok()) {
        return give_up(job_lock.error());
    }
    if (!job_lock->has_value()) {
        return give_up(msg("TRC0016", key.name, cfgtype, "another trace job holds this trace"));
    }
    auto info = c.store.read(key);
    if (!info.ok()) {
        return give_up(info.error());
    }
    c.fields.extra["interface"] = info->interface;
    auto iface = interface_state(info->interface);
    if (!iface) {
        return give_up(key.type == CfgType::Line ? msg("CPF2601", key.name)
                                                 : msg("CPF39BD", key.name));
    }
    auto file = MappedTraceFile::create(c.store.frames_path(key), info->buffer_bytes, key.name);
    if (!file.ok()) {
        return give_up(file.error());
    }
    CaptureOptions copt{.ifindex = iface->index,
                        .link = iface->link,
                        .dtadir = info->dtadir,
                        .user_bytes = info->usrdta.all ? kUserDataAll : info->usrdta.bytes};
    auto cap = PacketCapture::open(info->interface, copt);
    if (!cap.ok()) {
        return give_up(cap.error());
    }

    FileHeader h;
    h.link = iface->link;
    h.trcfull = info->trcfull;
    h.dtadir = info->dtadir;
    h.usrdta = info->usrdta.all ? kUserDataAll : info->usrdta.bytes;
    h.start_ns = now_ns();
    TraceRecorder rec(file->ring(), h);
    file->write_header(rec.header(h.start_ns));
    if (auto st = set_state(c, TraceState::Active, "", h.start_ns); !st.ok()) {
        return give_up(st.error());
    }
    c.log.message(msg("TRC001C", key.name, cfgtype, info->interface, info->buffer_bytes,
                      to_cl(info->trcfull), to_cl(info->dtadir),
                      info->usrdta.all ? std::string("*MAX") : std::to_string(info->usrdta.bytes)),
                  c.fields);
    report_ready(ready_fd, nullptr);

    EndReason why = capture_loop(c, *cap, rec, *file, *info, sig_fd);
    if (why == EndReason::Ended) {
        final_drain(*cap, rec, copt.block_timeout_ms);
    }
    uint64_t end = now_ns();
    FileHeader last = rec.header(end);
    file->write_header(last);
    file->sync();

    TraceState state = TraceState::Stopped;
    std::string reason = "ended by ENDCMNTRC";
    if (why == EndReason::Full) {
        state = TraceState::Full;
        reason = "buffer full (TRCFULL(*STOPTRC))";
        c.log.message(msg("TRC0018", key.name, cfgtype, info->buffer_bytes, last.ring.count),
                      c.fields);
    } else if (why == EndReason::LineFailed) {
        state = TraceState::LineFailed;
        reason = "interface " + info->interface + " went away";
    }
    if (auto st = set_state(c, state, reason, end); !st.ok()) {
        c.log.message(st.error(), c.fields);
    }
    c.log.message(msg("TRC001D", key.name, cfgtype, last.counters.seen, last.ring.count,
                      last.counters.kernel_drops, reason),
                  c.fields);
    ::close(sig_fd);
    return 0;
}

}  // namespace qvpn::trace
