// DSPJOBLOG: Display Job Log. Shows the job log of a qvpn job (QTOVMAN,
// QTOKVPNIK2, QTOKVPNIKE, QTOIPFJRN, ...): every operator message with its
// time, ID, severity and text, and the object keys (conn=, peer=, ike=,
// child=). --follow (or FOLLOW(*YES)) keeps reading as the job writes.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "core/joblog/joblog.hpp"

using namespace qvpn;

namespace {

const cl::CommandDef kDef{
    .name = "DSPJOBLOG",
    .title = "Display Job Log",
    .authority = cl::Authority::None,
    .params = {{.kwd = "JOB",
                .prompt = "Job name",
                .type = cl::Type::Name,
                .max_len = 10,
                .required = true,
                .positional = 1,
                .help = "QTOVMAN, QTOKVPNIK2, QTOKVPNIKE, QTOIPFJRN or another qvpn job"},
               {.kwd = "MSGID",
                .prompt = "Message identifier",
                .type = cl::Type::Generic,
                .max_len = 7,
                .specials = {"*ALL"},
                .dft = "*ALL",
                .help = "Only messages whose ID is or starts with this"},
               {.kwd = "FOLLOW",
                .prompt = "Follow new messages",
                .type = cl::Type::Special,
                .specials = {"*NO", "*YES"},
                .dft = "*NO",
                .help = "*YES keeps showing messages as the job writes them (--follow)"}},
    .display = true,
};

std::string fields_text(const joblog::Entry& e) {
    std::string s;
    auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) {
            s += std::string(" ") + k + "=" + v;
        }
    };
    add("conn", e.fields.conn);
    add("peer", e.fields.peer);
    add("ike", e.fields.ike);
    add("child", e.fields.child);
    for (const auto& [k, v] : e.fields.extra) {
        add(k.c_str(), v);
    }
    return s;
}

void show(const joblog::Entry& e, bool json) {
    if (json) {
        std::printf("%s\n", joblog::entry_to_json(e).c_str());
    } else {
        std::printf("%-27s %-7s %02d  %s%s\n", e.time.c_str(), e.msgid.c_str(), e.severity,
                    e.text.c_str(), fields_text(e).c_str());
    }
    std::fflush(stdout);
}

bool selected(const joblog::Entry& e, const std::string& want) {
    return want == "*ALL" || e.msgid.rfind(want, 0) == 0;
}

// Tail <job>.log: print complete lines as they appear; follow a rotation
// (the file replaced by a new, shorter one) from its start.
[[noreturn]] void follow(const std::string& job, const std::string& want, bool json,
                         std::streamoff from) {
    std::string path = paths::joblog_dir() + "/" + job + ".log";
    std::streamoff pos = from;
    std::string partial;
    for (;;) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) {
            if (st.st_size < pos) {
                pos = 0;  // rotated
            }
            if (st.st_size > pos) {
                std::ifstream in(path, std::ios::binary);
                in.seekg(pos);
                std::string chunk(static_cast<size_t>(st.st_size - pos), '\0');
                in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                pos += in.gcount();
                partial += chunk.substr(0, static_cast<size_t>(in.gcount()));
                size_t nl;
                while ((nl = partial.find('\n')) != std::string::npos) {
                    std::string line = partial.substr(0, nl);
                    partial.erase(0, nl + 1);
                    auto e = joblog::entry_from_json(line);
                    if (e.ok() && selected(*e, want)) {
                        show(*e, json);
                    }
                }
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

Status run(cl::Invocation& inv) {
    std::string job = to_upper(inv.str("JOB"));
    std::string want = to_upper(inv.str("MSGID"));
    bool follow_on = inv.is("FOLLOW", "*YES");
    auto entries = joblog::read(job);
    if (!entries.ok() && !follow_on) {
        return entries.failure();
    }
    if (entries.ok()) {
        if (inv.json() && !follow_on) {
            // One JSON array for scripts; --follow writes JSON lines instead.
            std::printf("[");
            bool first = true;
            for (const auto& e : *entries) {
                if (selected(e, want)) {
                    std::printf("%s\n%s", first ? "" : ",", joblog::entry_to_json(e).c_str());
                    first = false;
                }
            }
            std::printf("]\n");
        } else {
            if (!inv.json()) {
                std::printf("Job . . . . . . :   %s\n\n", job.c_str());
                std::printf("%-27s %-7s %-3s %s\n", "Time", "Msg ID", "Sev", "Message");
            }
            for (const auto& e : *entries) {
                if (selected(e, want)) {
                    show(e, inv.json());
                }
            }
        }
    }
    if (follow_on) {
        struct stat st {};
        std::string path = paths::joblog_dir() + "/" + job + ".log";
        follow(job, want, inv.json(), ::stat(path.c_str(), &st) == 0 ? st.st_size : 0);
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    // --follow is a flag without a value; the framework's options all take
    // one, so it becomes FOLLOW(*YES) here.
    std::vector<std::string> args(argv, argv + argc);
    for (auto& a : args) {
        if (a == "--follow" || a == "-f") {
            a = "FOLLOW(*YES)";
        }
    }
    std::vector<char*> av;
    for (auto& a : args) {
        av.push_back(a.data());
    }
    av.push_back(nullptr);
    return cl::run_main(kDef, run, argc, av.data());
}
