#include "daemon/trace/trace_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base/paths.hpp"

namespace qvpn::trace {

namespace fs = std::filesystem;

std::string to_json(const TraceInfo& t) {
    nlohmann::json j = {
        {"cfgobj", t.cfgobj},
        {"cfgtype", std::string(to_cl(t.type))},
        {"interface", t.interface},
        {"link", static_cast<uint32_t>(t.link)},
        {"buffer_bytes", t.buffer_bytes},
        {"maxstg", t.maxstg},
        {"dtadir", std::string(to_cl(t.dtadir))},
        {"trcfull", std::string(to_cl(t.trcfull))},
        {"usrdta", t.usrdta.all ? std::string("*MAX") : std::to_string(t.usrdta.bytes)},
        {"text", t.text},
        {"state", std::string(state_key(t.state))},
        {"reason", t.reason},
        {"pid", t.pid},
        {"start_ns", t.start_ns},
        {"end_ns", t.end_ns},
    };
    return j.dump(2) + "\n";
}

Result<TraceInfo> trace_info_from_json(const std::string& text, const std::string& file) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail("TRC0015", file, "not a JSON object");
    }
    TraceInfo t;
    try {
        t.cfgobj = j.at("cfgobj").get<std::string>();
        auto type = cfgtype_from_cl(j.at("cfgtype").get<std::string>());
        auto dtadir = datadir_from_cl(j.at("dtadir").get<std::string>());
        auto trcfull = tracefull_from_cl(j.at("trcfull").get<std::string>());
        auto state = state_from_key(j.at("state").get<std::string>());
        auto usrdta = parse_usrdta(j.at("usrdta").get<std::string>());
        uint32_t link = j.at("link").get<uint32_t>();
        if (!type || !dtadir || !trcfull || !state || !usrdta ||
            (link != static_cast<uint32_t>(LinkType::Ethernet) &&
             link != static_cast<uint32_t>(LinkType::Raw))) {
            return fail("TRC0015", file, "a value is not valid");
        }
        t.type = *type;
        t.dtadir = *dtadir;
        t.trcfull = *trcfull;
        t.state = *state;
        t.usrdta = *usrdta;
        t.link = static_cast<LinkType>(link);
        t.interface = j.at("interface").get<std::string>();
        t.buffer_bytes = j.at("buffer_bytes").get<uint64_t>();
        t.maxstg = j.at("maxstg").get<std::string>();
        t.text = j.at("text").get<std::string>();
        t.reason = j.at("reason").get<std::string>();
        t.pid = j.at("pid").get<int>();
        t.start_ns = j.at("start_ns").get<uint64_t>();
        t.end_ns = j.at("end_ns").get<uint64_t>();
    } catch (const nlohmann::json::exception& e) {
        return fail("TRC0015", file, e.what());
    }
    return t;
}

std::string TraceKey::dir_name() const {
    return std::string(to_cl(type).substr(1)) + "." + name;
}

// --- FileLock ----------------------------------------------------------------------

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

namespace {

Result<int> open_lock_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fail(msg("QVP0005", path).with_errno(errno));
    }
    return fd;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
    QVPN_ASSIGN(int fd, open_lock_file(path));
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            ::close(fd);
            return fail(msg("QVP0005", path).with_errno(e));
        }
    }
    FileLock l;
    l.fd_ = fd;
    return l;
}

Result<std::optional<FileLock>> FileLock::try_acquire(const std::string& path) {
    QVPN_ASSIGN(int fd, open_lock_file(path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        ::close(fd);
        if (e == EWOULDBLOCK) {
            return std::optional<FileLock>();
        }
        return fail(msg("QVP0005", path).with_errno(e));
    }
    FileLock l;
    l.fd_ = fd;
    return std::optional<FileLock>(std::move(l));
}

void FileLock::keep_across_exec() {
    int flags = ::fcntl(fd_, F_GETFD);
    if (flags >= 0) {
        ::fcntl(fd_, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

// --- TraceStore ----------------------------------------------------------------------

TraceStore::TraceStore() : base_(paths::trace_dir()) {}
TraceStore::TraceStore(std::string base) : base_(std::move(base)) {}

std::string TraceStore::dir(const TraceKey& k) const {
    return base_ + "/" + k.dir_name();
}

Status TraceStore::ensure() const {
    std::error_code ec;
    fs::create_directories(base_, ec);
    if (ec) {
        return fail(msg("QVP0001", base_).with_errno(ec.value()));
    }
    return {};
}

Result<FileLock> TraceStore::lock_store() const {
    QVPN_TRY(ensure());
    return FileLock::acquire(base_ + "/store.lock");
}

Result<FileLock> TraceStore::lock_state(const TraceKey& k) const {
    return FileLock::acquire(state_lock_path(k));
}

bool TraceStore::exists(const TraceKey& k) const {
    std::error_code ec;
    return fs::exists(info_path(k), ec);
}

Result<TraceInfo> TraceStore::read(const TraceKey& k) const {
    std::string path = info_path(k);
    std::ifstream in(path);
    if (!in) {
        return fail(msg("QVP0004", path).with_errno(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return trace_info_from_json(ss.str(), path);
}

Status TraceStore::write(const TraceKey& k, const TraceInfo& info) const {
    std::string path = info_path(k);
    std::string tmp = path + ".tmp";
    std::string text = to_json(info);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fail(msg("QVP0005", tmp).with_errno(errno));
    }
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(msg("QVP0005", tmp).with_errno(e));
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail(msg("QVP0005", path).with_errno(e));
    }
    return {};
}

Status TraceStore::create(const TraceKey& k) const {
    QVPN_TRY(ensure());
    std::string d = dir(k);
    if (::mkdir(d.c_str(), 0750) != 0 && errno != EEXIST) {
        return fail(msg("QVP0001", d).with_errno(errno));
    }
    return {};
}

Status TraceStore::remove(const TraceKey& k) const {
    std::error_code ec;
    fs::remove_all(dir(k), ec);
    if (ec) {
        return fail(msg("QVP0005", dir(k)).with_errno(ec.value()));
    }
    return {};
}

std::vector<TraceKey> TraceStore::list() const {
    std::vector<TraceKey> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(base_, ec)) {
        if (!e.is_directory()) {
            continue;
        }
        std::string n = e.path().filename().string();
        size_t dot = n.find('.');
        if (dot == std::string::npos) {
            continue;
        }
        auto type = cfgtype_from_cl("*" + n.substr(0, dot));
        if (!type) {
            continue;
        }
        TraceKey k{*type, n.substr(dot + 1)};
        if (exists(k)) {
            out.push_back(k);
        }
    }
    std::sort(out.begin(), out.end(), [](const TraceKey& a, const TraceKey& b) {
        return a.type != b.type ? a.type < b.type : a.name < b.name;
    });
    return out;
}

bool TraceStore::job_running(const TraceKey& k) const {
    std::error_code ec;
    if (!fs::exists(job_lock_path(k), ec)) {
        return false;
    }
    auto l = FileLock::try_acquire(job_lock_path(k));
    return l.ok() && !l->has_value();
}

Result<FileHeader> TraceStore::read_header(const TraceKey& k) const {
    std::string path = frames_path(k);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(msg("QVP0004", path).with_errno(errno));
    }
    Bytes b(kFileHeaderBytes);
    in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    b.resize(static_cast<size_t>(in.gcount()));
    return parse_header(b, path);
}

}  // namespace qvpn::trace
