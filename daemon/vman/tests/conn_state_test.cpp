#define BOOST_TEST_MODULE vman
#include <boost/test/unit_test.hpp>

#include "daemon/vman/conn_state.hpp"

using namespace qvpn;
using namespace qvpn::vman;

namespace {
const ConnState kAll[] = {ConnState::Idle,    ConnState::OnDemand, ConnState::Starting,
                          ConnState::Enabled, ConnState::Stopping, ConnState::Error};
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
    for (ConnState s : kAll) {
        BOOST_TEST((state_from_name(state_name(s)) == s));
    }
    BOOST_TEST(state_name(ConnState::Enabled) == "*ENABLED");
    BOOST_TEST((state_from_name("*error") == ConnState::Error));
    BOOST_TEST(!state_from_name("*RUNNING").has_value());
}

BOOST_AUTO_TEST_CASE(table_is_exactly_the_documented_graph) {
    // The whole 6x6 matrix, so an added or dropped edge shows up here.
    const char* expected[6] = {
        // to: Idle OnDemand Starting Enabled Stopping Error
        "011001",  // from Idle
        "001011",  // from OnDemand
        "000111",  // from Starting
        "001011",  // from Enabled
        "100001",  // from Stopping
        "100010",  // from Error
    };
    for (int f = 0; f < 6; ++f) {
        for (int t = 0; t < 6; ++t) {
            BOOST_TEST_CONTEXT(state_name(kAll[f]) << " -> " << state_name(kAll[t])) {
                BOOST_TEST(transition_allowed(kAll[f], kAll[t]) == (expected[f][t] == '1'));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(transition_changes_or_refuses) {
    ConnState s = ConnState::Idle;
    BOOST_TEST(transition(s, ConnState::Starting).ok());
    BOOST_TEST((s == ConnState::Starting));
    auto bad = transition(s, ConnState::Idle);
    BOOST_TEST(!bad.ok());
    BOOST_TEST(bad.error().id == "QVP0003");
    BOOST_TEST((s == ConnState::Starting));  // unchanged
    BOOST_TEST(transition(s, ConnState::Enabled).ok());
    BOOST_TEST(transition(s, ConnState::Stopping).ok());
    BOOST_TEST(transition(s, ConnState::Idle).ok());
}

BOOST_AUTO_TEST_CASE(active_states) {
    BOOST_TEST(!is_active(ConnState::Idle));
    BOOST_TEST(!is_active(ConnState::Error));
    BOOST_TEST(is_active(ConnState::OnDemand));
    BOOST_TEST(is_active(ConnState::Starting));
    BOOST_TEST(is_active(ConnState::Enabled));
    BOOST_TEST(is_active(ConnState::Stopping));
}
