// The operations behind STRCMNTRC, ENDCMNTRC, DLTCMNTRC, CHKCMNTRC and
// PRTCMNTRC, so the command sources only parse, call and print. Each returns
// the IBM i message an operator expects when it cannot do what was asked.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "daemon/trace/trace_file.hpp"
#include "daemon/trace/trace_store.hpp"
#include "daemon/trace/trace_types.hpp"

namespace qvpn::trace {

struct StartRequest {
    std::string cfgobj;
    CfgType type = CfgType::Line;
    std::string maxstg = "128K";
    DataDir dtadir = DataDir::Both;
    TraceFull trcfull = TraceFull::Wrap;
    UserData usrdta;
    std::string text;
};

// A trace as CHKCMNTRC shows it. `state` already says Abended when the
// description claims a running job that is gone.
struct TraceStatus {
    TraceKey key;
    TraceInfo info;
    std::optional<FileHeader> header;  // absent until the job created the file
};

TraceKey key_for(CfgType type, const std::string& cfgobj);

// Starts the trace job and waits until it captures. CPF26AE, CPF2601,
// CPF39BD, TRC0012, TRC0010, TRC0013, TRC0014, TRC0016 or the job's own
// failure (CPF39A7, TRC0017).
Result<TraceInfo> start_trace(const StartRequest& req, const TraceStore& store);

// Ends an active trace and waits for its job to save the buffer.
// CPF39B0 (none), CPF39AE (already ended), CPF39AF (being ended). A job
// found dead is recorded as ended abnormally (TRC001B in `diags`).
Result<TraceStatus> end_trace(CfgType type, const std::string& cfgobj, const TraceStore& store,
                              std::vector<Msg>& diags);

// CPF39B0, or TRC0011 while the trace job runs.
Status delete_trace(CfgType type, const std::string& cfgobj, const TraceStore& store);

// One trace (CPF39B0 when there is none) or all of them.
Result<TraceStatus> trace_status(CfgType type, const std::string& cfgobj, const TraceStore& store);
std::vector<TraceStatus> all_status(const TraceStore& store);

// Sum of the buffers of all traces that exist (what QCMNTRCMAX bounds).
uint64_t storage_in_use(const TraceStore& store);

// An ended trace read back for printing: the file stays mapped while the
// records (which point into it) are in use. TRC0011 while the job runs.
class LoadedTrace {
public:
    static Result<LoadedTrace> load(CfgType type, const std::string& cfgobj,
                                    const TraceStore& store);
    LoadedTrace(LoadedTrace&& o) noexcept;
    LoadedTrace& operator=(LoadedTrace&&) = delete;
    LoadedTrace(const LoadedTrace&) = delete;
    ~LoadedTrace();

    const TraceInfo& info() const { return status_.info; }
    const FileHeader& header() const { return *status_.header; }
    const std::vector<FrameRecord>& records() const { return records_; }

private:
    LoadedTrace() = default;
    TraceStatus status_;
    const uint8_t* map_ = nullptr;
    size_t map_bytes_ = 0;
    std::vector<FrameRecord> records_;
};

nlohmann::json status_json(const TraceStatus& s);

}  // namespace qvpn::trace
