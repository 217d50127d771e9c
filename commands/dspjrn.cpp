// DSPJRN: Display Journal, for qvpn's two journals: QVPN (VPN connection
// activity, entries M/TS) and QIPFILTER (packet rules, entries M/TF).
//
// OUTPUT(*) shows the entries; *PRINT writes the same report; *OUTFILE
// writes table FILE of library LIB ($QVPN_ROOT/lib/LIB.db) with the seed's
// field names (as IBM's model files QATOVSOFF and QATOFIPF have them);
// *CSV and *JSON (or --json) write the same fields for scripts.
#include <cstdio>
#include <ctime>

#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "journal/journal.hpp"
#include "journal/outfile.hpp"

using namespace qvpn;
using journal::Journal;

namespace {

const cl::CommandDef kDef{
    .name = "DSPJRN",
    .title = "Display Journal",
    .authority = cl::Authority::None,
    .params =
        {{.kwd = "JRN",
          .prompt = "Journal",
          .type = cl::Type::Char,
          .max_len = 21,
          .required = true,
          .positional = 1,
          .help = "QVPN or QIPFILTER, optionally qualified: QUSRSYS/QVPN"},
         {.kwd = "JRNCDE",
          .prompt = "Journal codes",
          .type = cl::Type::Generic,
          .single = {"*ALL", "*CTL"},
          .dft = "*ALL",
          .max_count = 16,
          .elements = {{.prompt = "Journal code", .type = cl::Type::Generic, .max_len = 1},
                       {.prompt = "Journal code selection",
                        .type = cl::Type::Special,
                        .specials = {"*ALLSLT", "*IGNFILSLT", "*IGNOBJSLT"},
                        .dft = "*ALLSLT"}},
          .help = "Journal code letters, e.g. ((M)); qvpn's journals hold code M"},
         {.kwd = "ENTTYP",
          .prompt = "Journal entry types",
          .type = cl::Type::Generic,
          .single = {"*ALL", "*RCD"},
          .dft = "*ALL",
          .max_count = 300,
          .elements = {{.prompt = "Entry type", .type = cl::Type::Generic, .max_len = 2}},
          .help = "Entry types, e.g. ((TS)) or ((TF))"},
         {.kwd = "FROMTIME",
          .prompt = "Starting date and time",
          .type = cl::Type::Char,
          .elements = {{.prompt = "Starting date", .type = cl::Type::Char, .max_len = 10,
                        .required = true},
                       {.prompt = "Starting time", .type = cl::Type::Char, .max_len = 8,
                        .dft = "000000"}},
          .help = "Date YYYY-MM-DD (or MM/DD/YY, YYYYMMDD) and time HH:MM:SS (local time)"},
         {.kwd = "TOTIME",
          .prompt = "Ending date and time",
          .type = cl::Type::Char,
          .elements = {{.prompt = "Ending date", .type = cl::Type::Char, .max_len = 10,
                        .required = true},
                       {.prompt = "Ending time", .type = cl::Type::Char, .max_len = 8,
                        .dft = "235959"}},
          .help = "Date and time of the last entry to show"},
         {.kwd = "NBRENT",
          .prompt = "Number of entries",
          .type = cl::Type::Int,
          .min = 1,
          .max = 2147483647,
          .specials = {"*ALL"},
          .dft = "*ALL"},
         {.kwd = "OUTPUT",
          .prompt = "Output",
          .type = cl::Type::Special,
          .specials = {"*", "*PRINT", "*OUTFILE", "*CSV", "*JSON"},
          .dft = "*",
          .help = "* or *PRINT: report; *OUTFILE: database file; *CSV, *JSON: for scripts"},
         {.kwd = "OUTFILFMT",
          .prompt = "Outfile format",
          .type = cl::Type::Special,
          .specials = {"*TYPE1", "*TYPE2", "*TYPE3", "*TYPE4", "*TYPE5"},
          .dft = "*TYPE1",
          .help = "Accepted for compatibility; every type writes the seed's field layout"},
         {.kwd = "OUTFILE",
          .prompt = "File to receive output",
          .type = cl::Type::Char,
          .max_len = 21,
          .help = "library/file: table FILE in $QVPN_ROOT/lib/LIBRARY.db"},
         {.kwd = "OUTMBR",
          .prompt = "Output member options",
          .type = cl::Type::Char,
          .elements = {{.prompt = "Member to receive output", .type = cl::Type::Name,
                        .max_len = 10, .specials = {"*FIRST"}, .dft = "*FIRST"},
                       {.prompt = "Replace or add records", .type = cl::Type::Special,
                        .specials = {"*REPLACE", "*ADD"}, .dft = "*REPLACE"}}},
         {.kwd = "ENTDTALEN",
          .prompt = "Entry data length",
          .type = cl::Type::Char,
          .elements = {{.prompt = "Field data format", .type = cl::Type::Special,
                        .specials = {"*OUTFILFMT", "*CHAR", "*VARLEN"}, .dft = "*OUTFILFMT"},
                       {.prompt = "Variable length field length", .type = cl::Type::Int,
                        .min = 1, .max = 32766, .specials = {"*CALC"}, .dft = "*CALC"}},
          .help = "Accepted for compatibility; fields are never truncated"}},
    .display = true,
};

// YYYY-MM-DD, MM/DD/YY, MM/DD/YYYY or YYYYMMDD; HH:MM:SS, HH.MM.SS, HHMMSS.
Result<int64_t> parse_when(const std::string& kwd, const std::string& date,
                           const std::string& time) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char c1 = 0, c2 = 0;
    bool ok = false;
    if (std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &mo, &d) == 3) {
        ok = true;
    } else if (std::sscanf(date.c_str(), "%2d/%2d/%4d", &mo, &d, &y) == 3) {
        y = y < 100 ? (y < 40 ? 2000 + y : 1900 + y) : y;
        ok = true;
    } else if (date.size() == 8 && std::sscanf(date.c_str(), "%4d%2d%2d", &y, &mo, &d) == 3) {
        ok = true;
    }
    if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31) {
        return fail("JRN0005", date, kwd, "not a date");
    }
    std::string t = time.empty() ? "000000" : time;
    if (std::sscanf(t.c_str(), "%2d%c%2d%c%2d", &h, &c1, &mi, &c2, &s) == 5 &&
        (c1 == ':' || c1 == '.') && c1 == c2) {
    } else if (t.size() == 6 && std::sscanf(t.c_str(), "%2d%2d%2d", &h, &mi, &s) == 3) {
    } else {
        return fail("JRN0005", time, kwd, "not a time");
    }
    if (h > 23 || mi > 59 || s > 59) {
        return fail("JRN0005", time, kwd, "not a time");
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    std::time_t tt = std::mktime(&tm);
    return static_cast<int64_t>(tt) * 1000000;
}

Result<Journal> journal_of(const std::string& text) {
    std::string name = text;
    if (auto slash = name.find('/'); slash != std::string::npos) {
        std::string lib = to_upper(name.substr(0, slash));
        if (lib != "QUSRSYS" && lib != "*LIBL") {
            return fail("JRN0004", name);
        }
        name = name.substr(slash + 1);
    }
    auto j = journal::journal_from_name(name);
    if (!j) {
        return fail("JRN0004", to_upper(name));
    }
    return *j;
}

Result<journal::Selection> selection(const cl::Invocation& inv) {
    journal::Selection s;
    if (!inv.is("JRNCDE", "*ALL")) {
        for (const auto& item : inv.list("JRNCDE")) {
            std::string code = item.is_list && !item.items.empty() ? item.items[0].atom : item.atom;
            if (iequals(code, "*CTL")) {
                s.codes.push_back('J');
            } else if (code.size() == 1) {
                s.codes.push_back(static_cast<char>(std::toupper(code[0])));
            } else {
                return fail("JRN0005", code, "JRNCDE", "a journal code is one letter");
            }
        }
    }
    if (!inv.is("ENTTYP", "*ALL") && !inv.is("ENTTYP", "*RCD")) {
        for (const auto& item : inv.list("ENTTYP")) {
            std::string t = item.is_list && !item.items.empty() ? item.items[0].atom : item.atom;
            if (t.size() != 2) {
                return fail("JRN0005", t, "ENTTYP", "an entry type has two characters");
            }
            s.entry_types.push_back(to_upper(t));
        }
    }
    for (const char* kwd : {"FROMTIME", "TOTIME"}) {
        if (!inv.specified(kwd)) {
            continue;
        }
        auto parts = inv.list(kwd);
        std::string date = parts.size() > 0 ? parts[0].atom : "";
        std::string time = parts.size() > 1 ? parts[1].atom : "";
        bool to = std::string(kwd) == "TOTIME";
        if (time.empty()) {
            time = to ? "235959" : "000000";
        }
        QVPN_ASSIGN(int64_t t, parse_when(kwd, date, time));
        if (to) {
            s.to_time_us = t + 999999;  // the whole last second
        } else {
            s.from_time_us = t;
        }
    }
    if (!inv.is("NBRENT", "*ALL")) {
        s.max_entries = static_cast<size_t>(inv.integer("NBRENT", 0));
    }
    return s;
}

void report(Journal j, const std::vector<journal::Entry>& entries, const std::string& output) {
    const auto& defs = journal::fields(j);
    std::printf("Journal . . . . . . :   %-10s  Library . . . . . . :   QUSRSYS\n",
                std::string(journal::journal_name(j)).c_str());
    if (output == "*PRINT") {
        std::printf("Output  . . . . . . :   *PRINT\n");
    }
    std::printf("\n  Sequence  Code  Type  Job         Number  Program     Time\n");
    // The entry-specific fields start after the header fields (15 for TS
    // with TSESDL, 14 for TF).
    size_t first_specific = j == Journal::Qvpn ? 15 : 14;
    for (const auto& e : entries) {
        const auto& h = e.header;
        std::printf("%10lld  %-4c  %-4s  %-10s  %06d  %-10s  %s\n",
                    static_cast<long long>(h.seq), h.code, h.type.c_str(), h.origin.job.c_str(),
                    h.origin.job_number, h.origin.program.c_str(), h.time.c_str());
        auto vals = journal::field_values(e);
        std::string line;
        for (size_t i = first_specific; i < defs.size(); ++i) {
            if (vals[i].empty()) {
                continue;
            }
            std::string item = std::string(defs[i].name) + "=" + vals[i];
            if (line.size() + item.size() + 1 > 88) {
                std::printf("            %s\n", line.c_str());
                line.clear();
            }
            line += (line.empty() ? "" : " ") + item;
        }
        if (!line.empty()) {
            std::printf("            %s\n", line.c_str());
        }
    }
}

Status run(cl::Invocation& inv) {
    QVPN_ASSIGN(Journal j, journal_of(inv.str("JRN")));
    QVPN_ASSIGN(journal::Selection sel, selection(inv));
    std::string output = to_upper(inv.str("OUTPUT"));
    if (inv.json()) {
        output = "*JSON";
    }
    std::string lib, file;
    if (output == "*OUTFILE") {
        std::string of = inv.str("OUTFILE");
        if (of.empty()) {
            return fail("JRN0008", output);
        }
        auto slash = of.find('/');
        std::string l = slash == std::string::npos ? "*CURLIB" : of.substr(0, slash);
        std::string f = slash == std::string::npos ? of : of.substr(slash + 1);
        // *LIBL and *CURLIB have no meaning without a job's library list:
        // they stand for QGPL, IBM i's default current library.
        if (iequals(l, "*LIBL") || iequals(l, "*CURLIB")) {
            l = "QGPL";
        }
        QVPN_ASSIGN(lib, journal::object_name(l, "OUTFILE"));
        QVPN_ASSIGN(file, journal::object_name(f, "OUTFILE"));
    }

    QVPN_ASSIGN(auto entries, journal::read(j, sel));
    if (entries.empty()) {
        return fail("JRN0001", journal::journal_name(j));
    }
    if (output == "*OUTFILE") {
        bool replace = true;
        auto mbr = inv.list("OUTMBR");
        if (mbr.size() > 1 && iequals(mbr[1].atom, "*ADD")) {
            replace = false;
        }
        QVPN_TRY(journal::write_outfile(j, entries, lib, file, replace));
        inv.complete(msg("JRN0007", entries.size(), journal::journal_name(j)));
        return {};
    }
    if (output == "*JSON") {
        std::printf("%s\n", journal::to_json(j, entries).dump(2).c_str());
        return {};
    }
    if (output == "*CSV") {
        std::fputs(journal::to_csv(j, entries).c_str(), stdout);
        return {};
    }
    report(j, entries, output);
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
