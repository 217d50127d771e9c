// rules_policy_fixture: writes the branch office configuration of
// policy_fixture.hpp into $QVPN_ROOT/policy.db for the namespace tests.
//   rules_policy_fixture [--line L] [--interface IF] [--journal] [--no-permit-other]
//                        [--manual] [--active CNN] [--local-ks A] [--remote-ks A]
//                        [--local-net A MASK] [--remote-net A MASK]
//   rules_policy_fixture --state CNN STATE      (only set a connection's state)
#include <cstdio>
#include <string>

#include "core/msg/catalog.hpp"
#include "rules/tests/policy_fixture.hpp"

int main(int argc, char** argv) {
    qvpn::rules::test::FixtureOptions o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--state") {
            std::string cnn = next();
            std::string state = next();
            qvpn::Status st = qvpn::rules::test::set_connection_state(cnn, state);
            if (!st.ok()) {
                std::fprintf(stderr, "%s\n", qvpn::msgcat::line(st.error()).c_str());
                return 1;
            }
            return 0;
        }
        if (a == "--line") {
            o.line = next();
        } else if (a == "--interface") {
            o.interface = next();
        } else if (a == "--journal") {
            o.journaling = qvpn::policy::Journaling::IpTraffic;
        } else if (a == "--no-permit-other") {
            o.permit_other = false;
        } else if (a == "--manual") {
            o.manual = true;
        } else if (a == "--active") {
            o.active = next();
        } else if (a == "--local-ks") {
            o.local_ks = next();
        } else if (a == "--remote-ks") {
            o.remote_ks = next();
        } else if (a == "--local-net") {
            o.local_net = next();
            o.local_mask = next();
        } else if (a == "--remote-net") {
            o.remote_net = next();
            o.remote_mask = next();
        } else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    qvpn::Status st = qvpn::rules::test::write_branch_office(o);
    if (!st.ok()) {
        std::fprintf(stderr, "%s\n", qvpn::msgcat::line(st.error()).c_str());
        return 1;
    }
    return 0;
}
