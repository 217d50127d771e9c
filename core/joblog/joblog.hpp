// Job logs: each daemon (QTOVMAN, QTOKVPNIK2, QTOKVPNIKE, QTOIPFJRN, ...)
// writes its job log here, and DSPJOBLOG JOB(name) reads it.
//
// A job log is a file of JSON lines, $QVPN_ROOT/joblog/<JOB>.log, one entry
// per line:
//   {"time":"2026-12-03T17:40:01.123456Z","job":"QTOVMAN","pid":123,
//    "msgid":"TCP8601","sev":30,"level":"error","text":"Could not start ...",
//    "values":["HRgw2FINgw","3"],"conn":"HRgw2FINgw","peer":"192.0.2.2", ...}
// Operator entries carry a catalog message ID; debug entries carry msgid
// "*DEBUG" and free text. The file is bounded: past the size limit it is
// renamed to <JOB>.log.1 (replacing the older one) and a new file begins, so
// at most twice the limit is kept. Writes are single write(2) calls of whole
// lines with O_APPEND, so a crash never leaves half an entry behind.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/result.hpp"

namespace qvpn::joblog {

enum class Level { Trace, Debug, Info, Warning, Error };

// Object keys of an operator line (conn=, peer=, ike=, child=).
struct Fields {
    std::string conn;
    std::string peer;
    std::string ike;    // <ispi>/<rspi>
    std::string child;  // <spi>
    std::map<std::string, std::string> extra;
};

struct Entry {
    std::string time;   // ISO 8601 UTC with microseconds
    std::string job;
    int pid = 0;
    std::string msgid;  // catalog ID, or "*DEBUG"
    int severity = 0;
    Level level = Level::Info;
    std::string text;   // first-level text with values substituted
    std::vector<std::string> values;
    Fields fields;
};

class JobLog {
public:
    // Opens (creating) $QVPN_ROOT/joblog/<job>.log.
    explicit JobLog(std::string job, size_t max_bytes = 4 * 1024 * 1024);
    ~JobLog();
    JobLog(const JobLog&) = delete;
    JobLog& operator=(const JobLog&) = delete;

    // An operator message from the catalog. The level follows the severity
    // (00 info, 10 warning, 20+ error) unless given.
    void message(const Msg& m, const Fields& f = {});
    void message(Level level, const Msg& m, const Fields& f = {});
    // Debug/trace lines: component and terse text, no catalog ID.
    void debug(std::string_view component, std::string_view text, const Fields& f = {});
    void trace(std::string_view component, std::string_view text, const Fields& f = {});

    // Lines below this level are dropped (default Info; QVPN_DEBUG=1 -> Debug,
    // QVPN_DEBUG=2 -> Trace).
    void set_level(Level l) { min_level_ = l; }
    // Also copy each line to stderr (daemons in the foreground).
    void set_echo(bool e) { echo_ = e; }
    const std::string& path() const { return path_; }

private:
    void write(const Entry& e);
    std::string job_;
    std::string path_;
    size_t max_bytes_;
    Level min_level_ = Level::Info;
    bool echo_ = false;
    int fd_ = -1;
    std::mutex mu_;
};

// Reading, for DSPJOBLOG: entries of <job>.log.1 then <job>.log, oldest
// first. Lines that do not parse are returned with msgid "*BADLINE".
Result<std::vector<Entry>> read(const std::string& job);
std::string level_name(Level l);
std::string entry_to_json(const Entry& e);
Result<Entry> entry_from_json(const std::string& line);

}  // namespace qvpn::joblog
