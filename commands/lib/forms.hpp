// The parameters of the create and change commands of each configuration
// object, and how their values update the object. CRTxxx and CHGxxx share
// one definition, so both accept the same keywords and values; a change
// command defaults every parameter to *SAME.
//
// Object type codes used in messages: *KEYPCY key exchange policy, *DTAPCY
// data policy, *DKG dynamic-key group, *DKC dynamic-key connection, *MNC
// manual connection, *LIND line description, *CERT certificate.
#pragma once

#include <vector>

#include "commands/lib/cmdlib.hpp"

namespace qvpn::cmd {

std::vector<ParamDef> key_policy_params(Form f);
Status apply_key_policy(const Invocation& inv, policy::PolicyDb& db, Form f,
                        policy::KeyPolicy& p);

std::vector<ParamDef> data_policy_params(Form f);
Status apply_data_policy(const Invocation& inv, policy::PolicyDb& db, Form f,
                         policy::DataPolicy& p);

std::vector<ParamDef> group_params(Form f);
// `position` receives the requested place in the search order (0: keep or
// last).
Status apply_group(const Invocation& inv, Form f, policy::DynamicGroup& g, int& position);

std::vector<ParamDef> connection_params(Form f);
Status apply_connection(const Invocation& inv, policy::PolicyDb& db, Form f,
                        policy::DynamicConnection& c);

std::vector<ParamDef> manual_params(Form f);
Status apply_manual(const Invocation& inv, Form f, policy::ManualConnection& c);

std::vector<ParamDef> line_params(Form f);
Status apply_line(const Invocation& inv, Form f, policy::Line& l);

}  // namespace qvpn::cmd
