#include "core/joblog/joblog.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/base/paths.hpp"
#include "core/msg/catalog.hpp"

namespace qvpn::joblog {

namespace {

std::string now_iso() {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto us = duration_cast<microseconds>(now.time_since_epoch()).count() % 1000000;
    std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us));
    return buf;
}

Level level_for(int severity) {
    if (severity >= 20) {
        return Level::Error;
    }
    return severity >= 10 ? Level::Warning : Level::Info;
}

std::optional<Level> parse_level(const std::string& s) {
    for (Level l : {Level::Trace, Level::Debug, Level::Info, Level::Warning, Level::Error}) {
        if (level_name(l) == s) {
            return l;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string level_name(Level l) {
    switch (l) {
    case Level::Trace: return "trace";
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    }
    return "info";
}

std::string entry_to_json(const Entry& e) {
    nlohmann::json j = {{"time", e.time},     {"job", e.job},     {"pid", e.pid},
                        {"msgid", e.msgid},   {"sev", e.severity}, {"level", level_name(e.level)},
                        {"text", e.text},     {"values", e.values}};
    if (!e.fields.conn.empty()) {
        j["conn"] = e.fields.conn;
    }
    if (!e.fields.peer.empty()) {
        j["peer"] = e.fields.peer;
    }
    if (!e.fields.ike.empty()) {
        j["ike"] = e.fields.ike;
    }
    if (!e.fields.child.empty()) {
        j["child"] = e.fields.child;
    }
    for (const auto& [k, v] : e.fields.extra) {
        j[k] = v;
    }
    return j.dump();
}

Result<Entry> entry_from_json(const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail("QVP0003", "joblog", "line is not a JSON object");
    }
    Entry e;
    static const std::vector<std::string> kKnown = {"time", "job",  "pid",    "msgid", "sev", "level",
                                                    "text", "values", "conn", "peer",  "ike", "child"};
    e.time = j.value("time", "");
    e.job = j.value("job", "");
    e.pid = j.value("pid", 0);
    e.msgid = j.value("msgid", "");
    e.severity = j.value("sev", 0);
    e.level = parse_level(j.value("level", "info")).value_or(Level::Info);
    e.text = j.value("text", "");
    if (j.contains("values") && j["values"].is_array()) {
        for (const auto& v : j["values"]) {
            e.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    e.fields.conn = j.value("conn", "");
    e.fields.peer = j.value("peer", "");
    e.fields.ike = j.value("ike", "");
    e.fields.child = j.value("child", "");
    for (const auto& [k, v] : j.items()) {
        bool known = false;
        for (const auto& n : kKnown) {
            known = known || n == k;
        }
        if (!known) {
            e.fields.extra[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
    }
    return e;
}

JobLog::JobLog(std::string job, size_t max_bytes)
    : job_(std::move(job)), path_(paths::joblog_dir() + "/" + job_ + ".log"), max_bytes_(max_bytes) {
    ::mkdir(paths::root().c_str(), 0755);
    ::mkdir(paths::joblog_dir().c_str(), 0755);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const char* dbg = std::getenv("QVPN_DEBUG");
    if (dbg != nullptr && *dbg == '1') {
        min_level_ = Level::Debug;
    } else if (dbg != nullptr && *dbg == '2') {
        min_level_ = Level::Trace;
    }
}

JobLog::~JobLog() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void JobLog::message(const Msg& m, const Fields& f) { message(level_for(msgcat::severity(m)), m, f); }

void JobLog::message(Level level, const Msg& m, const Fields& f) {
    Entry e;
    e.msgid = m.id;
    e.severity = msgcat::severity(m);
    e.level = level;
    e.text = msgcat::first_level(m);
    e.values = m.values;
    e.fields = f;
    if (m.sys_errno != 0) {
        e.fields.extra["errno"] = std::to_string(m.sys_errno);
    }
    write(e);
}

void JobLog::debug(std::string_view component, std::string_view text, const Fields& f) {
    if (min_level_ > Level::Debug) {
        return;
    }
    Entry e;
    e.msgid = "*DEBUG";
    e.level = Level::Debug;
    e.text = std::string(component) + ": " + std::string(text);
    e.fields = f;
    write(e);
}

void JobLog::trace(std::string_view component, std::string_view text, const Fields& f) {
    if (min_level_ > Level::Trace) {
        return;
    }
    Entry e;
    e.msgid = "*TRACE";
    e.level = Level::Trace;
    e.text = std::string(component) + ": " + std::string(text);
    e.fields = f;
    write(e);
}

void JobLog::write(const Entry& in) {
    if (in.level < min_level_) {
        return;
    }
    Entry e = in;
    e.time = now_iso();
    e.job = job_;
    e.pid = static_cast<int>(::getpid());
    std::string line = entry_to_json(e) + "\n";

    std::lock_guard<std::mutex> lock(mu_);
    if (echo_) {
        std::fprintf(stderr, "%s %s %s %s\n", e.time.c_str(), job_.c_str(), e.msgid.c_str(),
                     e.text.c_str());
    }
    if (fd_ < 0) {
        return;
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && static_cast<size_t>(st.st_size) + line.size() > max_bytes_) {
        // Rotate: keep one older generation.
        std::string old = path_ + ".1";
        ::rename(path_.c_str(), old.c_str());
        ::close(fd_);
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            return;
        }
    }
    ssize_t n = ::write(fd_, line.data(), line.size());
    (void)n;
}

Result<std::vector<Entry>> read(const std::string& job) {
    std::vector<Entry> out;
    std::string base = paths::joblog_dir() + "/" + job + ".log";
    bool any = false;
    for (const std::string& p : {base + ".1", base}) {
        std::ifstream in(p);
        if (!in) {
            continue;
        }
        any = true;
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) {
                continue;
            }
            auto e = entry_from_json(line);
            if (e.ok()) {
                out.push_back(std::move(*e));
            } else {
                Entry bad;
                bad.msgid = "*BADLINE";
                bad.text = line.substr(0, 200);
                out.push_back(std::move(bad));
            }
        }
    }
    if (!any) {
        return fail("CPF3C53", job);
    }
    return out;
}

}  // namespace qvpn::joblog
