// The two state machines of the IKEv2 engine, each with its legal
// transitions in one table and one function that changes state: it logs
// "old -> new" at debug and refuses anything the table does not list.
//
// IKE SA (RFC 7296 1.2, 1.3.2, 1.4):
//
//   Idle --IKE_SA_INIT sent--> InitSent --IKE_AUTH sent--> AuthSent --> Established
//   Idle --IKE_SA_INIT answered (responder)--> InitDone --IKE_AUTH ok--> Established
//   Established --IKE SA rekeyed, children moved--> Rekeyed --> Deleting/Closed
//   Established --DELETE sent--> Deleting --> Closed
//   any state --failure, peer DELETE, give-up--> Closed
//
// CHILD_SA (RFC 7296 1.3, 1.3.3, 1.4.1):
//
//   Creating --> Installed --rekey sent--> Rekeying --> Installed (rekey failed)
//   Installed/Rekeying --replaced by a new CHILD_SA--> Rekeyed --> Deleting --> Closed
//   Installed --DELETE sent--> Deleting --> Closed
#pragma once

#include <string_view>

namespace qvpn::ikev2 {

enum class IkeState { Idle, InitSent, InitDone, AuthSent, Established, Rekeyed, Deleting, Closed };
enum class ChildState { Creating, Installed, Rekeying, Rekeyed, Deleting, Closed };

std::string_view state_name(IkeState s);
std::string_view state_name(ChildState s);

bool transition_allowed(IkeState from, IkeState to);
bool transition_allowed(ChildState from, ChildState to);

}  // namespace qvpn::ikev2
