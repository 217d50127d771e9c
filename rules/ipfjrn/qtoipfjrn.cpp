// QTOIPFJRN: the packet-rules journal job. Binds the NFLOG group of the
// JRN = FULL rules, turns every logged packet into one QIPFILTER action
// entry, and writes them in batches to the QIPFILTER journal. Started by LODIPFTR
// when the active rules journal, ended (SIGTERM) when they stop doing so.
// See rules/journal_job.hpp for the limits and the status file.
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/joblog/joblog.hpp"
#include "journal/journal.hpp"
#include "rules/journal_job.hpp"
#include "rules/store.hpp"

using namespace qvpn;
using namespace qvpn::rules;

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// Interface name -> line name, from the active-rules state.
class LineNames {
public:
    std::string line_of(uint32_t ifindex) {
        char name[IF_NAMESIZE + 1] = {};
        if (ifindex == 0 || if_indextoname(ifindex, name) == nullptr) {
            return "";
        }
        auto it = lines_.find(name);
        if (it == lines_.end() && std::chrono::steady_clock::now() - loaded_ > kRefresh) {
            reload();
            it = lines_.find(name);
        }
        return it == lines_.end() ? std::string(name) : it->second;
    }

    void reload() {
        loaded_ = std::chrono::steady_clock::now();
        auto store = Store::open(state_path(), false);
        if (!store.ok()) {
            return;
        }
        auto st = store->read();
        if (!st.ok()) {
            return;
        }
        lines_.clear();
        for (const auto& l : st->lines) {
            lines_[l.plan.interface] = l.plan.line;
        }
    }

private:
    static constexpr std::chrono::seconds kRefresh{2};
    std::map<std::string, std::string> lines_;
    std::chrono::steady_clock::time_point loaded_{};
};

class Job {
public:
    Job(joblog::JobLog& log, JobLimits limits)
        : log_(log), limits_(limits), bucket_(limits.rate, limits.burst) {}

    ~Job() {
        if (sk_ != nullptr) {
            if (cfg_ != nullptr) {
                nfnl_log_delete(sk_, cfg_);
            }
            nl_socket_free(sk_);
        }
        if (cfg_ != nullptr) {
            nfnl_log_put(cfg_);
        }
    }

    Status bind(int group) {
        status_.group = group;
        sk_ = nl_socket_alloc();
        if (sk_ == nullptr || nl_connect(sk_, NETLINK_NETFILTER) < 0) {
            return fail("NFT0142", "cannot open a netfilter netlink socket");
        }
        nl_socket_disable_seq_check(sk_);
        // Room for bursts: the kernel drops what does not fit, and the
        // sequence numbers tell us how much.
        int size = 16 << 20;
        setsockopt(nl_socket_get_fd(sk_), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        nfnl_log_pf_unbind(sk_, AF_INET);
        nfnl_log_pf_bind(sk_, AF_INET);
        nfnl_log_pf_unbind(sk_, AF_INET6);
        nfnl_log_pf_bind(sk_, AF_INET6);
        cfg_ = nfnl_log_alloc();
        nfnl_log_set_group(cfg_, uint16_t(group));
        nfnl_log_set_copy_mode(cfg_, NFNL_LOG_COPY_PACKET);
        nfnl_log_set_copy_range(cfg_, kCopyBytes);
        nfnl_log_set_flags(cfg_, NFNL_LOG_FLAG_SEQ);
        int err = nfnl_log_create(sk_, cfg_);
        if (err < 0) {
            return fail("NFT0142", std::string("binding NFLOG group ") + std::to_string(group) +
                                       ": " + nl_geterror(err));
        }
        nl_socket_modify_cb(sk_, NL_CB_VALID, NL_CB_CUSTOM, &Job::on_message, this);
        nl_socket_set_nonblocking(sk_);
        status_.started = journal::saa_timestamp(
            std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count());
        return {};
    }

    Status run() {
        QVPN_ASSIGN(journal_, journal::Writer::open(journal::Journal::Qipfilter,
                                                    journal::Origin::current(kJournalJob,
                                                                             kJournalJob)));
        lines_.reload();
        pollfd pfd{nl_socket_get_fd(sk_), POLLIN, 0};
        auto last_status = std::chrono::steady_clock::now();
        while (!g_stop) {
            int n = poll(&pfd, 1, 200);
            if (n > 0) {
                drain();
            }
            flush();
            auto now = std::chrono::steady_clock::now();
            if (now - last_status >= std::chrono::seconds(1)) {
                last_status = now;
                check_size();
                write_job_status(status_);
            }
        }
        drain();
        flush();
        write_job_status(status_);
        return {};
    }

    const JobStatus& status() const { return status_; }

private:
    static constexpr uint32_t kCopyBytes = 128;  // IPv6 + extension headers + ports
    static constexpr size_t kBatch = 4096;

    void drain() {
        for (int i = 0; i < 64; ++i) {
            int err = nl_recvmsgs_default(sk_);
            if (err == -NLE_AGAIN || err == 0) {
                return;
            }
            if (err == -NLE_NOMEM || err == -NLE_MSG_OVERFLOW) {
                continue;  // receive buffer overrun; sequence gaps count the loss
            }
            if (err < 0) {
                log_.debug("nflog", std::string("receive: ") + nl_geterror(err));
                return;
            }
        }
    }

    static int on_message(struct nl_msg* m, void* arg) {
        auto* self = static_cast<Job*>(arg);
        struct nfnl_log_msg* lm = nullptr;
        if (nfnlmsg_log_msg_parse(nlmsg_hdr(m), &lm) < 0 || lm == nullptr) {
            return NL_OK;
        }
        self->packet(lm);
        nfnl_log_msg_put(lm);
        return NL_OK;
    }

    void packet(struct nfnl_log_msg* lm) {
        uint32_t seq = nfnl_log_msg_get_seq(lm);
        if (have_seq_ && seq > next_seq_) {
            status_.dropped_kernel += seq - next_seq_;
        }
        have_seq_ = true;
        next_seq_ = seq + 1;

        const char* prefix = nfnl_log_msg_get_prefix(lm);
        auto p = parse_log_prefix(prefix ? prefix : "");
        int len = 0;
        const void* payload = nfnl_log_msg_get_payload(lm, &len);
        std::optional<PacketHeader> h;
        if (payload != nullptr && len > 0) {
            h = decode_packet({static_cast<const uint8_t*>(payload), size_t(len)});
        }
        if (!p || !h) {
            ++bad_;
            return;  // not one of ours, or no IP header: nothing to journal
        }
        if (over_size_) {
            ++status_.dropped_size;
            return;
        }
        if (!bucket_.take(std::chrono::steady_clock::now())) {
            ++status_.dropped_rate;
            return;
        }
        uint32_t dev = p->inbound ? nfnl_log_msg_get_indev(lm) : nfnl_log_msg_get_outdev(lm);
        pending_.push_back(action_entry(*p, *h, lines_.line_of(dev)));
        if (pending_.size() >= kBatch) {
            flush();
        }
    }

    void flush() {
        if (pending_.empty()) {
            return;
        }
        auto st = journal_->append_batch(pending_);
        if (!st.ok()) {
            status_.dropped_size += pending_.size();
            if (!journal_failed_) {
                log_.message(st.error());
                journal_failed_ = true;
            }
        } else {
            status_.written += pending_.size();
            journal_failed_ = false;
        }
        pending_.clear();
    }

    void check_size() {
        bool over = journal_bytes() >= limits_.max_bytes;
        if (over != over_size_) {
            over_size_ = over;
            if (over) {
                report_drops();
            }
        }
        uint64_t dropped = status_.dropped();
        if (dropped != reported_dropped_ &&
            std::chrono::steady_clock::now() - last_report_ >= std::chrono::seconds(60)) {
            report_drops();
        }
    }

    // At most one drop message a minute: a flood must not fill the job log.
    void report_drops() {
        last_report_ = std::chrono::steady_clock::now();
        reported_dropped_ = status_.dropped();
        log_.message(msg("NFT0143", status_.dropped_rate, status_.dropped_size,
                         status_.dropped_kernel, uint64_t(limits_.rate),
                         limits_.max_bytes >> 20));
    }

    joblog::JobLog& log_;
    JobLimits limits_;
    TokenBucket bucket_;
    JobStatus status_;
    struct nl_sock* sk_ = nullptr;
    struct nfnl_log* cfg_ = nullptr;
    std::unique_ptr<journal::Writer> journal_;
    LineNames lines_;
    std::vector<journal::TfEntry> pending_;
    bool have_seq_ = false;
    uint32_t next_seq_ = 0;
    uint64_t bad_ = 0;
    bool over_size_ = false;
    bool journal_failed_ = false;
    uint64_t reported_dropped_ = 0;
    std::chrono::steady_clock::time_point last_report_{};
};

void write_pid() {
    std::string tmp = job_pid_path() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << getpid() << "\n";
    }
    std::filesystem::rename(tmp, job_pid_path());
}

}  // namespace

int main() {
    if (!paths::ensure().ok()) {
        return 1;
    }
    joblog::JobLog log(kJournalJob);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    int group = nflog_group();
    Job job(log, JobLimits::from_env());
    Status st = job.bind(group);
    if (!st.ok()) {
        log.message(st.error());
        return 1;
    }
    write_pid();
    log.message(msg("NFT0140", group));
    st = job.run();
    std::error_code ec;
    std::filesystem::remove(job_pid_path(), ec);
    if (!st.ok()) {
        log.message(st.error());
        return 1;
    }
    log.message(msg("NFT0141", job.status().written, job.status().dropped()));
    return 0;
}
