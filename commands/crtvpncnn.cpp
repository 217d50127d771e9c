// CRTVPNCNN: the New Connection wizard as one command. In one transaction it
// creates what IBM i's wizard creates for a dynamic-key connection: a key
// exchange policy, a data policy, a dynamic-key group and the connection
// <group>:L1 (L: locally initiated). With ACTFTR(*YES) it then runs
// LODIPFTR OPTION(*LOAD) LIND(*ALL) INCVPN(*YES) to activate the generated
// policy filters.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "commands/lib/cmdlib.hpp"
#include "core/base/paths.hpp"
#include "core/base/text.hpp"
#include "core/policy/checks.hpp"

using namespace qvpn;
using namespace qvpn::cmd;
using namespace qvpn::policy;

namespace {

constexpr size_t kMaxGroupNameForWizard = kMaxNameLen - 3;  // room for ":L1"

cl::CommandDef make_def() {
    std::vector<std::string> levels = {"*BALANCED", "*HIGHEST", "*MINIMUM"};
    ParamDef keytfm = key_transforms_param("KEYTFM", Form::Create, "");
    keytfm.single = {"*KEYPCY"};
    keytfm.dft = "*KEYPCY";
    keytfm.help = "((encryption hash dh-group) ...): replaces the transforms KEYPCY gives";
    ParamDef dtatfm = data_transforms_param("DTATFM", Form::Create, "");
    dtatfm.single = {"*DTAPCY"};
    dtatfm.dft = "*DTAPCY";
    dtatfm.help = "((protocol encryption authentication) ...): replaces DTAPCY's transforms";
    std::vector<std::string> pfs = {"*DTAPCY"};
    for (const auto& g : cl_values<DhGroup>()) {
        pfs.push_back(g);
    }
    ParamDef name = name_param("NAME", "Connection group name");
    name.help = "1-37 characters: the connection NAME:L1 must fit in 40";

    return {
        .name = "CRTVPNCNN",
        .title = "Create VPN Connection (New Connection wizard)",
        .authority = cl::Authority::IoSysCfg,
        .params =
            {name,
             {.kwd = "SCENARIO", .prompt = "Connection scenario", .type = Type::Special,
              .specials = cl_values<SystemRole>(), .required = true, .positional = 2,
              .help = "*GW2GW, *GW2HOST, *HOST2GW or *HOST2HOST (local role first)"},
             choice_param("IKEVER", "IKE version", {"*V2", "*V1"}, Form::Create, "*V2"),
             {.kwd = "KEYPCY", .prompt = "Key exchange policy", .type = Type::Name,
              .max_len = kMaxNameLen, .specials = levels, .dft = "*BALANCED",
              .help = "A security level for a new policy, or an existing policy's name"},
             keytfm,
             choice_param("AUTH", "Authentication method", cl_values<AuthMethod>(), Form::Create,
                          "*PSK"),
             {.kwd = "PSK", .prompt = "Preshared key", .type = Type::Char,
              .max_len = kMaxPskLen, .help = "1-128 characters, with AUTH(*PSK)"},
             {.kwd = "CERT", .prompt = "Certificate label", .type = Type::Name,
              .max_len = kMaxNameLen, .help = "With AUTH(*RSA) or AUTH(*ECDSA); see DSPDCMCRT"},
             identity_param("LCLKEYSVR", "Local key server identifier", false, Form::Create),
             identity_param("RMTKEYSVR", "Remote key server identifier", true, Form::Create),
             endpoint_param("LCLDTAEP", "Local data endpoint", Form::Create, "*KEYSVR",
                            "*KEYSVR"),
             endpoint_param("RMTDTAEP", "Remote data endpoint", Form::Create, "*KEYSVR",
                            "*KEYSVR"),
             port_param("LCLPORT", "Local port", Form::Create),
             port_param("RMTPORT", "Remote port", Form::Create),
             protocol_param("PROTOCOL", Form::Create),
             {.kwd = "DTAPCY", .prompt = "Data policy", .type = Type::Name,
              .max_len = kMaxNameLen, .specials = levels, .dft = "*BALANCED",
              .help = "A security level for a new policy, or an existing policy's name"},
             dtatfm,
             choice_param("PFS", "Perfect forward secrecy", pfs, Form::Create, "*DTAPCY"),
             choice_param("MODE", "Encapsulation mode", {"*DFT", "*TUNNEL", "*TRANSPORT"},
                          Form::Create, "*DFT",
                          "*DFT: *TRANSPORT for *HOST2HOST, *TUNNEL otherwise"),
             choice_param("INITIATOR", "Initiator of connections", cl_values<Initiator>(),
                          Form::Create, "*BOTH"),
             yesno_param("ONDEMAND", "Start on demand", Form::Create, "*NO"),
             choice_param("POLICYFTR", "Policy filter", cl_values<PolicyFilter>(), Form::Create,
                          "*GENERATE"),
             lines_param(Form::Create),
             yesno_param("ACTFTR", "Activate policy filters", Form::Create, "*NO"),
             choice_param("OTHERTRAFFIC", "Other traffic (generated rules)",
                          {"*PERMIT", "*DENY"}, Form::Create, "*PERMIT"),
             choice_param("JRN", "Journaling", cl_values<Journaling>(), Form::Create, "*NONE"),
             yesno_param("ESN", "Extended sequence numbers", Form::Create, "*NO"),
             yesno_param("TFC", "Traffic flow confidentiality", Form::Create, "*NO"),
             yesno_param("IPCOMP", "IP compression", Form::Create, "*NO"),
             text_param(Form::Create)},
    };
}

const cl::CommandDef kDef = make_def();

bool address_is_local(const IpAddress& a) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return true;  // cannot tell: do not warn
    }
    bool found = false;
    for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
        if (i->ifa_addr == nullptr) {
            continue;
        }
        std::optional<IpAddress> mine;
        if (i->ifa_addr->sa_family == AF_INET) {
            auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
            mine = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr), 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
            mine = IpAddress::from_bytes(sin6->sin6_addr.s6_addr, 16);
        }
        found = mine && *mine == a;
    }
    freeifaddrs(list);
    return found;
}

// Parameters that a new policy takes but an existing one already has.
Status refuse_with_existing(const Invocation& inv, std::initializer_list<const char*> kwds,
                            const char* kind, const std::string& name) {
    for (const char* k : kwds) {
        if (inv.specified(k)) {
            return param_error(inv, msg("CFG0007", k, kind, name));
        }
    }
    return {};
}

struct Plan {
    std::optional<KeyPolicy> new_key;   // created unless an existing policy is named
    std::string key_name;
    std::optional<DataPolicy> new_data;
    std::string data_name;
    DynamicGroup group;
    DynamicConnection connection;
};

Status plan_key_policy(const Invocation& inv, PolicyDb& db, const VpnDefaults& dft, Plan& plan,
                       Identity& remote) {
    std::string keypcy = inv.str("KEYPCY");
    auto level = from_cl<SecurityLevel>(keypcy);
    if (!level) {
        QVPN_TRY(refuse_with_existing(inv, {"KEYTFM", "AUTH", "PSK", "CERT"}, "*KEYPCY", keypcy));
        QVPN_ASSIGN(KeyPolicy existing, db.load_key_policy(keypcy));
        if (!inv.specified("RMTKEYSVR")) {
            remote = existing.remote;
        } else if (!same_identity(existing.remote, remote)) {
            return param_error(inv, msg("CFG000A", identity_text(remote),
                                        identity_text(existing.remote), existing.name));
        }
        if (existing.auth == AuthMethod::Ecdsa && inv.is("IKEVER", "*V1")) {
            return param_error(inv, msg("CFG0006", existing.name));
        }
        plan.key_name = existing.name;
        return {};
    }

    KeyPolicy k;
    k.name = inv.str("NAME");
    k.created_by = k.name;
    k.remote = remote;
    k.auth = read_enum(inv, "AUTH", AuthMethod::Psk);
    if (k.auth == AuthMethod::Psk) {
        if (!inv.specified("PSK") || inv.str("PSK").empty()) {
            return param_error(inv, msg("CFG0001"));
        }
        if (inv.specified("CERT")) {
            return param_error(inv, msg("CFG0004"));
        }
        std::string psk = inv.str("PSK");
        k.psk = SecretBytes(as_view(psk));
        k.has_psk = true;
        std::fill(psk.begin(), psk.end(), '\0');
    } else {
        if (!inv.specified("CERT")) {
            return param_error(inv, msg("CFG0003", to_cl(k.auth)));
        }
        if (inv.specified("PSK")) {
            return param_error(inv, msg("CFG0002", to_cl(k.auth)));
        }
        if (k.auth == AuthMethod::Ecdsa && inv.is("IKEVER", "*V1")) {
            return param_error(inv, msg("CFG0006", k.name));
        }
        k.cert_label = inv.str("CERT");
    }
    if (inv.is("KEYTFM", "*KEYPCY")) {
        k.transforms = key_transforms(*level);
    } else {
        QVPN_ASSIGN(k.transforms, read_key_transforms(inv, "KEYTFM", *level));
    }
    k.lifetime_minutes = dft.key_lifetime_minutes;
    k.lifetime_kb = dft.key_lifetime_kb;
    k.text = inv.is("TEXT", "*BLANK") ? "" : inv.str("TEXT");
    plan.key_name = k.name;
    plan.new_key = std::move(k);
    return {};
}

Status plan_data_policy(const Invocation& inv, PolicyDb& db, const VpnDefaults& dft,
                        SystemRole role, Plan& plan) {
    std::string dtapcy = inv.str("DTAPCY");
    auto level = from_cl<SecurityLevel>(dtapcy);
    if (!level) {
        QVPN_TRY(refuse_with_existing(inv, {"DTATFM", "PFS", "MODE", "IPCOMP"}, "*DTAPCY",
                                      dtapcy));
        QVPN_ASSIGN(DataPolicy existing, db.load_data_policy(dtapcy));
        Status st = check_mode_role(existing.mode, role, existing.name);
        if (!st.ok()) {
            return param_error(inv, st.error());
        }
        plan.data_name = existing.name;
        return {};
    }
    DataPolicy d;
    d.name = inv.str("NAME");
    d.created_by = d.name;
    if (inv.is("DTATFM", "*DTAPCY")) {
        d.transforms = data_transforms(*level);
    } else {
        QVPN_ASSIGN(d.transforms, read_data_transforms(inv, "DTATFM", *level));
    }
    d.pfs = inv.is("PFS", "*DTAPCY") ? pfs_group(*level) : read_enum(inv, "PFS", DhGroup::None);
    if (inv.is("MODE", "*DFT")) {
        d.mode = role == SystemRole::Host2Host ? Mode::Transport : Mode::Tunnel;
    } else {
        d.mode = read_enum(inv, "MODE", Mode::Tunnel);
    }
    Status st = check_mode_role(d.mode, role, d.name);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    d.ipcomp = yes(inv, "IPCOMP");
    d.lifetime_minutes = dft.data_lifetime_minutes;
    d.lifetime_kb = dft.data_lifetime_kb;
    d.text = inv.is("TEXT", "*BLANK") ? "" : inv.str("TEXT");
    plan.data_name = d.name;
    plan.new_data = std::move(d);
    return {};
}

Status make_plan(const Invocation& inv, PolicyDb& db, Plan& plan) {
    std::string name = inv.str("NAME");
    if (name.size() > kMaxGroupNameForWizard) {
        return param_error(inv, msg("CFG0009", name, kMaxGroupNameForWizard));
    }
    SystemRole role = read_enum(inv, "SCENARIO", SystemRole::Gw2Gw);
    QVPN_ASSIGN(VpnDefaults dft, db.defaults());

    // Key servers: the local one always; the remote one unless an existing
    // key exchange policy names it.
    if (!inv.specified("LCLKEYSVR")) {
        return param_error(inv, msg("CPD0072", "LCLKEYSVR", "CRTVPNCNN"));
    }
    QVPN_ASSIGN(Identity local, read_identity(inv, "LCLKEYSVR"));
    Identity remote;
    if (inv.specified("RMTKEYSVR")) {
        QVPN_ASSIGN(remote, read_identity(inv, "RMTKEYSVR"));
    } else if (from_cl<SecurityLevel>(inv.str("KEYPCY"))) {
        return param_error(inv, msg("CPD0072", "RMTKEYSVR", "CRTVPNCNN"));
    }
    QVPN_TRY(plan_key_policy(inv, db, dft, plan, remote));
    QVPN_TRY(plan_data_policy(inv, db, dft, role, plan));

    // A remote key server that can be anyone can only call us.
    bool any_remote = remote.type == IdType::AnyIp;
    Initiator initiator = read_enum(inv, "INITIATOR", Initiator::Both);
    if (any_remote) {
        if (inv.specified("INITIATOR") && initiator != Initiator::Remote) {
            return param_error(inv, msg("CFG000B", "INITIATOR"));
        }
        if (yes(inv, "ONDEMAND")) {
            return param_error(inv, msg("CFG000B", "ONDEMAND"));
        }
        initiator = Initiator::Remote;
    }

    DynamicGroup& g = plan.group;
    g.name = name;
    g.role = role;
    g.initiator = initiator;
    g.data_policy = plan.data_name;
    g.key_policies = {plan.key_name};
    g.policy_filter = read_enum(inv, "POLICYFTR", PolicyFilter::Generate);
    g.lines = read_lines(inv, "LIND");
    g.journaling = read_enum(inv, "JRN", Journaling::None);
    g.from_wizard = true;
    g.text = inv.is("TEXT", "*BLANK") ? "" : inv.str("TEXT");

    DynamicConnection& c = plan.connection;
    c.name = name + ":L1";
    c.group = name;
    c.local_id = local;
    c.remote_id = remote;
    QVPN_ASSIGN(c.local, read_endpoint(inv, "LCLDTAEP", local));
    QVPN_ASSIGN(c.remote, read_endpoint(inv, "RMTDTAEP", remote));
    c.local_port = read_port(inv, "LCLPORT");
    c.remote_port = read_port(inv, "RMTPORT");
    c.protocol = read_protocol(inv, "PROTOCOL");
    c.on_demand = yes(inv, "ONDEMAND");
    c.ike_version = inv.is("IKEVER", "*V1") ? 1 : 2;
    c.esn = yes(inv, "ESN");
    c.tfc = yes(inv, "TFC");
    c.from_wizard = true;
    c.text = g.text;
    Status st = check_connection_role(c, role);
    if (!st.ok()) {
        return param_error(inv, st.error());
    }
    return {};
}

// LODIPFTR OPTION(*LOAD) LIND(*ALL) INCVPN(*YES), installed beside us.
Status activate_filters(const Invocation& inv, const std::string& group) {
    std::string exe = paths::self_dir() + "/LODIPFTR";
    if (::access(exe.c_str(), X_OK) != 0) {
        // TODO(actftr): nothing else activates the generated rules; until
        // the packet-rules team's LODIPFTR is installed next to CRTVPNCNN,
        // ACTFTR(*YES) creates the objects and then fails with CFG0011.
        return fail("CFG0011", group, exe);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        return fail(msg("CFG0012", "fork", group).with_errno(errno));
    }
    if (pid == 0) {
        execl(exe.c_str(), "LODIPFTR", "OPTION(*LOAD)", "LIND(*ALL)", "INCVPN(*YES)",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc != 0) {
        return fail("CFG0012", rc, group);
    }
    (void)inv;
    return {};
}

Status run(Invocation& inv) {
    QVPN_ASSIGN(PolicyDb db, open_db());
    Plan plan;
    QVPN_TRY(make_plan(inv, db, plan));

    if (plan.connection.local_id.type == IdType::IPv4 ||
        plan.connection.local_id.type == IdType::IPv6) {
        auto a = IpAddress::parse(plan.connection.local_id.value);
        if (a && !address_is_local(*a)) {
            inv.diagnostic(msg("CFG0008", plan.connection.local_id.value));
        }
    }

    bool actftr = yes(inv, "ACTFTR");
    QVPN_TRY(db.transaction([&]() -> Status {
        if (actftr || inv.specified("OTHERTRAFFIC")) {
            QVPN_ASSIGN(VpnAttributes a, db.attributes());
            a.generated_permit_other = inv.is("OTHERTRAFFIC", "*PERMIT");
            QVPN_TRY(db.set_attributes(a));
        }
        if (plan.new_key) {
            QVPN_TRY(db.create_key_policy(*plan.new_key));
        }
        if (plan.new_data) {
            QVPN_TRY(db.create_data_policy(*plan.new_data));
        }
        QVPN_TRY(db.create_group(plan.group));
        return db.create_connection(plan.connection);
    }));
    inv.complete(msg("CFG0010", plan.group.name, plan.key_name, plan.data_name,
                     plan.connection.name));
    if (actftr) {
        return activate_filters(inv, plan.group.name);
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) { return cl::run_main(kDef, run, argc, argv); }
