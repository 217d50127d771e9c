// How the configuration objects look on displays (DSPxxx, WRKVPNCNN). The
// JSON keys are the stable script interface documented in the man pages.
#pragma once

#include <optional>

#include "commands/lib/display.hpp"
#include "core/policy/model.hpp"

namespace qvpn::cmd {

Panel key_policy_panel(const policy::KeyPolicy& p);
Panel data_policy_panel(const policy::DataPolicy& p);
Panel group_panel(const policy::DynamicGroup& g);
Panel connection_panel(const policy::DynamicConnection& c);
Panel manual_panel(const policy::ManualConnection& c);
Panel line_panel(const policy::Line& l);
Panel attributes_panel(const policy::VpnAttributes& a);
Panel defaults_panel(const policy::VpnDefaults& d);
Panel certificate_panel(const policy::CertificateInfo& c);
// The runtime state of a connection; *IDLE when the connection manager has
// not recorded one.
Panel status_panel(const std::optional<policy::ConnectionStatus>& s);

}  // namespace qvpn::cmd
