// The connection manager's live view in the connection displays: DSPVPNCNN
// gets a "Connection manager" section per connection (registered in
// live_status.cpp), WRKVPNCNN a list of every installed security
// association after its connection list.
#pragma once

#include <functional>
#include <string>

namespace qvpn::cmd {

// Prints the installed SAs of the connections QTOVMAN holds whose names pass
// `wanted`, as a second list (text mode). Says so when the VPN server does
// not answer.
void print_live_sas(const std::function<bool(const std::string&)>& wanted);

}  // namespace qvpn::cmd
