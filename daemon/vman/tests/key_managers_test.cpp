#include <boost/test/unit_test.hpp>

#include "daemon/vman/key_managers.hpp"

using namespace qvpn::vman;

BOOST_AUTO_TEST_CASE(restart_backoff_doubles_to_a_minute) {
    BOOST_TEST(restart_delay(0).count() == 1);
    BOOST_TEST(restart_delay(1).count() == 1);
    BOOST_TEST(restart_delay(2).count() == 2);
    BOOST_TEST(restart_delay(3).count() == 4);
    BOOST_TEST(restart_delay(6).count() == 32);
    BOOST_TEST(restart_delay(7).count() == 60);
    BOOST_TEST(restart_delay(100).count() == 60);
}
