// The two parameters every communications trace command starts with: the
// configuration object traced (a line description or interface) and its type.
#pragma once

#include "core/cl/command.hpp"

namespace qvpn::cmd {

// CFGOBJ(name), required, positional 1.
inline cl::ParamDef trace_cfgobj_param() {
    return {.kwd = "CFGOBJ",
            .prompt = "Configuration object",
            .type = cl::Type::Name,
            .max_len = 15,
            .required = true,
            .positional = 1,
            .help = "Line description, or the Linux interface name"};
}

// CFGTYPE(*LIN|*NWI|*NWS), required, positional 2.
inline cl::ParamDef trace_cfgtype_param() {
    return {.kwd = "CFGTYPE",
            .prompt = "Type",
            .type = cl::Type::Special,
            .specials = {"*LIN", "*NWI", "*NWS"},
            .required = true,
            .positional = 2};
}

}  // namespace qvpn::cmd
