// Where traces live and how commands and trace jobs share them.
//
//   $QVPN_ROOT/trace/<TYPE>.<NAME>/     one directory per trace (LIN.TRLINE)
//     trace.json    the description: parameters, state, job, times
//     frames.qct    the buffer (see trace_file.hpp)
//     state.lock    flock()ed around every change of trace.json
//     job.lock      held by the trace job for as long as it runs
//   $QVPN_ROOT/trace/store.lock  flock()ed while a trace is created or
//                                deleted (the QCMNTRCMAX sum stays true)
//
// trace.json is replaced atomically (write, fsync, rename), so a reader sees
// the old or the new description, never half of one. Whether a trace job is
// alive is decided by job.lock, not by its process ID: a job that dies
// releases the lock, and a reused process ID cannot fool it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "daemon/trace/trace_file.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

struct TraceInfo {
    std::string cfgobj;  // as typed (upper case)
    CfgType type = CfgType::Line;
    std::string interface;
    LinkType link = LinkType::Ethernet;
    uint64_t buffer_bytes = 0;  // MAXSTG in bytes
    std::string maxstg;         // MAXSTG as typed
    DataDir dtadir = DataDir::Both;
    TraceFull trcfull = TraceFull::Wrap;
    UserData usrdta;
    std::string text;
    TraceState state = TraceState::Starting;
    std::string reason;  // why it stopped, for CHKCMNTRC
    int pid = 0;         // the trace job
    uint64_t start_ns = 0;
    uint64_t end_ns = 0;
};

std::string to_json(const TraceInfo& t);
Result<TraceInfo> trace_info_from_json(const std::string& text, const std::string& file);

// The identity of a trace: type and upper-cased object name.
struct TraceKey {
    CfgType type = CfgType::Line;
    std::string name;
    std::string dir_name() const;  // LIN.TRLINE
};

class FileLock {
public:
    FileLock() = default;
    ~FileLock();
    FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    FileLock& operator=(FileLock&& o) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // Blocks until the lock is held. QVP0005 when the file cannot be opened.
    static Result<FileLock> acquire(const std::string& path);
    // Takes the lock only if free; nullopt when someone holds it.
    static Result<std::optional<FileLock>> try_acquire(const std::string& path);
    int fd() const { return fd_; }
    // Hand the descriptor to a child process across exec (clears CLOEXEC).
    void keep_across_exec();

private:
    int fd_ = -1;
};

class TraceStore {
public:
    TraceStore();  // paths::trace_dir()
    explicit TraceStore(std::string base);

    const std::string& base() const { return base_; }
    std::string dir(const TraceKey& k) const;
    std::string info_path(const TraceKey& k) const { return dir(k) + "/trace.json"; }
    std::string frames_path(const TraceKey& k) const { return dir(k) + "/frames.qct"; }
    std::string state_lock_path(const TraceKey& k) const { return dir(k) + "/state.lock"; }
    std::string job_lock_path(const TraceKey& k) const { return dir(k) + "/job.lock"; }

    Status ensure() const;
    Result<FileLock> lock_store() const;
    Result<FileLock> lock_state(const TraceKey& k) const;

    bool exists(const TraceKey& k) const;
    Result<TraceInfo> read(const TraceKey& k) const;
    Status write(const TraceKey& k, const TraceInfo& info) const;  // caller holds the state lock
    Status create(const TraceKey& k) const;                        // the directory
    Status remove(const TraceKey& k) const;                        // directory and everything in it

    // Every trace, sorted by type and name.
    std::vector<TraceKey> list() const;
    // Is the trace job of this trace running (holding job.lock)?
    bool job_running(const TraceKey& k) const;
    // The header of the trace file, when there is one.
    Result<FileHeader> read_header(const TraceKey& k) const;

private:
    std::string base_;
};

}  // namespace qvpn::trace
