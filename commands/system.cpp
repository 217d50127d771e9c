// system: run one CL command given as a single string, like the IBM i PASE
// `system` utility:   system "STRVPNCNN CNN(HRgw2FINgw)"
//
// The command name selects the executable of the same name beside this one
// (or on PATH); the rest of the string is handed to it unchanged, so quoting
// and parentheses need no shell escaping beyond the outer quotes.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/cl/command.hpp"
#include "core/cl/parser.hpp"

using namespace qvpn;

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::printf("usage: system \"COMMAND PARAMETERS...\"\n"
                    "Runs one qvpn CL command given as a single string. See man system.\n");
        return argc < 2 ? cl::kExitParameters : cl::kExitOk;
    }
    std::string text;
    for (int i = 1; i < argc; ++i) {
        text += i > 1 ? " " : "";
        text += argv[i];
    }
    auto line = cl::parse_command(text);
    if (!line.ok()) {
        cl::print_message(stderr, line.error(), false, false);
        cl::print_message(stderr, msg("CPF0006"), false, false);
        return cl::kExitParameters;
    }
    const std::string name = line->command;
    bool plain = !name.empty() && name != "SYSTEM";
    for (char c : name) {
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) != 0);
    }
    std::filesystem::path exe = std::filesystem::path(paths::self_dir()) / name;
    if (!plain || !std::filesystem::exists(exe)) {
        cl::print_message(stderr, msg("CPD0012", name), false, false);
        cl::print_message(stderr, msg("CPF0006"), false, false);
        return cl::kExitParameters;
    }

    // Everything after the command name, as one argument.
    size_t start = text.find_first_not_of(" \t\n");
    std::string_view rest = trim(std::string_view(text).substr(start + name.size()));
    std::string rest_s(rest);
    if (rest_s.empty()) {
        execl(exe.c_str(), name.c_str(), static_cast<char*>(nullptr));
    } else {
        execl(exe.c_str(), name.c_str(), rest_s.c_str(), static_cast<char*>(nullptr));
    }
    std::perror("system: exec");
    return cl::kExitFailed;
}
